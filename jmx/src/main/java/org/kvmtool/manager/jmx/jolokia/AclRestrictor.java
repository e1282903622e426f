package org.kvmtool.manager.jmx.jolokia;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

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
 * Within one HTTP request the answers are remembered, and one answer serves every kvmtool Domain MBean while
 * the ACL cannot tell them apart ({@link AclLayout}): Karaf's check costs far more than reading an attribute.
 * Nothing is remembered from one request to the next, so a changed ACL applies to the next request.
 */
final class AclRestrictor implements Restrictor {
    private static final String ANY_DOMAIN = "kvmtool:type=Domain,*";
    /** Longer than any request should take; only guards against a caller that never opens a request. */
    private static final long REQUEST_NANOS = 10_000_000_000L;

    private final Restrictor policy;
    private final AccessDecider acl;
    private final AclLayout layout;
    // per instance, not static: when the component goes, the threads' entries go with it
    private final ThreadLocal<Request> request = ThreadLocal.withInitial(Request::new);

    /** What one HTTP request has learnt so far, on its thread. */
    private static final class Request {
        final Map<String, Boolean> decisions = new HashMap<>();
        long startedNanos = System.nanoTime();
        Boolean domainsShare;
        boolean mutationPending;

        void reset() {
            decisions.clear();
            startedNanos = System.nanoTime();
            domainsShare = null;
            mutationPending = false;
        }
    }

    AclRestrictor(Restrictor policy, AccessDecider acl, AclLayout layout) {
        this.policy = policy;
        this.acl = acl;
        this.layout = layout;
    }

    @Override
    public boolean isRemoteAccessAllowed(String... hostOrAddress) {
        request.get().reset();
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
        Request r = request.get();
        boolean mutation = r.mutationPending;
        r.mutationPending = false;
        return policy.isHttpMethodAllowed(method) && !(mutation && method != HttpMethod.POST);
    }

    @Override
    public boolean isTypeAllowed(RequestType type) {
        return policy.isTypeAllowed(type);
    }

    @Override
    public boolean isAttributeReadAllowed(ObjectName name, String attribute) {
        return policy.isAttributeReadAllowed(name, attribute)
                && decide('r', name, attribute, () -> acl.canRead(name, attribute));
    }

    @Override
    public boolean isAttributeWriteAllowed(ObjectName name, String attribute) {
        return markMutation(policy.isAttributeWriteAllowed(name, attribute)
                && decide('w', name, attribute, () -> acl.canWrite(name, attribute)));
    }

    @Override
    public boolean isOperationAllowed(ObjectName name, String operation) {
        return markMutation(policy.isOperationAllowed(name, operation)
                && decide('x', name, operation, () -> acl.canInvoke(name, operation)));
    }

    private boolean decide(char kind, ObjectName name, String member, BooleanSupplier ask) {
        Request r = request.get();
        if (System.nanoTime() - r.startedNanos > REQUEST_NANOS) {
            r.reset();
        }
        String key = kind + " " + member + " " + scope(r, name);
        Boolean known = r.decisions.get(key);
        if (known == null) {
            known = ask.getAsBoolean();
            r.decisions.put(key, known);
        }
        return known;
    }

    /** The MBeans the answer about {@code name} holds for: all kvmtool Domain MBeans, or just this one. */
    private String scope(Request r, ObjectName name) {
        if ("kvmtool".equals(name.getDomain()) && "Domain".equals(name.getKeyProperty("type"))
                && name.getKeyPropertyList().size() == 2 && !name.isPattern()) {
            if (r.domainsShare == null) {
                r.domainsShare = layout.domainsShareDecisions();
            }
            if (r.domainsShare) {
                return ANY_DOMAIN;
            }
        }
        return name.toString();
    }

    private boolean markMutation(boolean allowed) {
        if (allowed) {
            request.get().mutationPending = true;
        }
        return allowed;
    }
}
