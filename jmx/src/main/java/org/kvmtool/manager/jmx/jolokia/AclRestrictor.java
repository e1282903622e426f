package org.kvmtool.manager.jmx.jolokia;

import javax.management.ObjectName;

import org.jolokia.restrictor.Restrictor;
import org.jolokia.util.HttpMethod;
import org.jolokia.util.RequestType;

/**
 * Jolokia's access decisions for /jolokia: the access policy (jolokia-access.xml) AND Karaf's JMX ACL for the
 * request's JAAS subject, plus two rules the policy file cannot express:
 * <ul>
 * <li><b>POST for exec and write.</b> Jolokia asks {@link #isHttpMethodAllowed} without the request type, but
 * always right after {@link #isOperationAllowed} or {@link #isAttributeWriteAllowed} of the same request,
 * on the same thread (JsonRequestHandler.handleRequest: checkForRestriction, then checkHttpMethod). So an
 * allowed exec or write leaves a mark on the thread, and the method check that follows refuses GET.
 * {@link #isRemoteAccessAllowed} opens every HTTP request and clears the mark.</li>
 * <li><b>Origins checked on every request</b>, not only in CORS answers: a request that carries an Origin
 * (or, failing that, a Referer) must match the policy's allow-origin list. One without either is no
 * browser's cross-site request and passes (curl, JMX tools); Jolokia's own strict-checking would refuse it.</li>
 * </ul>
 */
final class AclRestrictor implements Restrictor {
    private final Restrictor policy;
    private final AccessDecider acl;
    // per instance, not static: when the component goes, the threads' entries go with it
    private final ThreadLocal<boolean[]> mutationPending = ThreadLocal.withInitial(() -> new boolean[1]);

    AclRestrictor(Restrictor policy, AccessDecider acl) {
        this.policy = policy;
        this.acl = acl;
    }

    @Override
    public boolean isRemoteAccessAllowed(String... hostOrAddress) {
        mutationPending.get()[0] = false;
        return policy.isRemoteAccessAllowed(hostOrAddress);
    }

    @Override
    public boolean isOriginAllowed(String origin, boolean onlyWhenStrictCheckingIsEnabled) {
        if (onlyWhenStrictCheckingIsEnabled && origin == null) {
            return true;
        }
        return policy.isOriginAllowed(origin, false);
    }

    @Override
    public boolean isHttpMethodAllowed(HttpMethod method) {
        boolean[] pending = mutationPending.get();
        boolean mutation = pending[0];
        pending[0] = false;
        return policy.isHttpMethodAllowed(method) && !(mutation && method != HttpMethod.POST);
    }

    @Override
    public boolean isTypeAllowed(RequestType type) {
        return policy.isTypeAllowed(type);
    }

    @Override
    public boolean isAttributeReadAllowed(ObjectName name, String attribute) {
        return policy.isAttributeReadAllowed(name, attribute) && acl.canRead(name, attribute);
    }

    @Override
    public boolean isAttributeWriteAllowed(ObjectName name, String attribute) {
        return markMutation(policy.isAttributeWriteAllowed(name, attribute) && acl.canWrite(name, attribute));
    }

    @Override
    public boolean isOperationAllowed(ObjectName name, String operation) {
        return markMutation(policy.isOperationAllowed(name, operation) && acl.canInvoke(name, operation));
    }

    private boolean markMutation(boolean allowed) {
        if (allowed) {
            mutationPending.get()[0] = true;
        }
        return allowed;
    }
}
