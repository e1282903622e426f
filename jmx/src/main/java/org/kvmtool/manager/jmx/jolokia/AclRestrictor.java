package org.kvmtool.manager.jmx.jolokia;

import java.security.AccessController;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import javax.management.ObjectName;
import javax.security.auth.Subject;

import org.jolokia.restrictor.Restrictor;
import org.jolokia.util.HttpMethod;
import org.jolokia.util.RequestType;
import org.kvmtool.manager.jmx.jolokia.AccessDecider.Verdict;

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
 * <p>Karaf's check costs far more than reading an attribute (each question lists and reads the jmx.acl
 * configurations), and Jolokia asks once per MBean and attribute. So Karaf's answers are remembered, keyed by
 * the subject's principals, the kind of access, the attribute or operation and the MBean; one answer serves
 * every kvmtool Domain MBean while the ACL cannot tell them apart. They are remembered only while the
 * jmx.acl* configurations stay as they were: each request first reads their fingerprint ({@link AclLayout}),
 * and a changed ACL applies to the very request that first sees it. An answer Karaf did not give (no
 * security MBean, no such MBean or attribute, an error) refuses and is not remembered.
 */
final class AclRestrictor implements Restrictor {
    private static final String ANY_DOMAIN = "kvmtool:type=Domain,*";
    /** Longer than any request should take; only guards against a caller that never opens a request. */
    private static final long REQUEST_NANOS = 10_000_000_000L;
    /** Far above principals x MBeans x attributes of any real use; past it, answers are simply not kept. */
    static final int MAX_REMEMBERED = 20_000;

    private final Restrictor policy;
    private final AccessDecider acl;
    private final AclLayout layout;
    /** Karaf's answers under the ACL fingerprint they were given for; replaced whole when that changes. */
    private final AtomicReference<Memory> memory = new AtomicReference<>(new Memory(""));
    // per instance, not static: when the component goes, the threads' entries go with it
    private final ThreadLocal<Request> request = ThreadLocal.withInitial(Request::new);

    /** Answers given under one ACL fingerprint (or, with a null one, within one request only). */
    private static final class Memory {
        final String fingerprint;
        final Map<Question, Boolean> answers = new ConcurrentHashMap<>();

        Memory(String fingerprint) {
            this.fingerprint = fingerprint;
        }
    }

    /** One question to Karaf: who, what kind of access ('r', 'w', 'x'), to what, on which MBeans. */
    private record Question(String principals, char kind, String member, String scope) {
    }

    /** What one HTTP request has learnt so far, on its thread. */
    private static final class Request {
        long startedNanos = System.nanoTime();
        AclLayout.Snapshot layout;
        Memory memory;
        String principals;
        boolean mutationPending;

        void reset() {
            startedNanos = System.nanoTime();
            layout = null;
            memory = null;
            principals = null;
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

    private boolean decide(char kind, ObjectName name, String member, Supplier<Verdict> ask) {
        Request r = current();
        Question key = new Question(r.principals, kind, member, scope(r.layout, name));
        Boolean known = r.memory.answers.get(key);
        if (known != null) {
            return known;
        }
        Verdict verdict = ask.get();
        if (verdict != Verdict.UNDECIDED && r.memory.answers.size() < MAX_REMEMBERED) {
            r.memory.answers.put(key, verdict == Verdict.ALLOWED);
        }
        return verdict == Verdict.ALLOWED;
    }

    /** The request of this thread, with the ACL layout, the answers that apply and the subject read once. */
    private Request current() {
        Request r = request.get();
        if (System.nanoTime() - r.startedNanos > REQUEST_NANOS) {
            r.reset();
        }
        if (r.memory == null) {
            r.layout = layout.snapshot();
            r.memory = r.layout.rememberable() ? memoryFor(r.layout.fingerprint()) : new Memory(null);
            r.principals = principals();
        }
        return r;
    }

    /** The shared answers for this ACL fingerprint; a different fingerprint starts afresh. */
    private Memory memoryFor(String fingerprint) {
        Memory m = memory.get();
        while (!m.fingerprint.equals(fingerprint)) {
            Memory fresh = new Memory(fingerprint);
            if (memory.compareAndSet(m, fresh)) {
                return fresh;
            }
            m = memory.get();
        }
        return m;
    }

    /** Who asks: every principal of the thread's JAAS subject (Karaf decides on their roles), in a stable order. */
    @SuppressWarnings("removal")
    static String principals() {
        Subject subject = Subject.getSubject(AccessController.getContext());
        if (subject == null) {
            return "[no subject]";
        }
        return subject.getPrincipals().stream().map(p -> p.getClass().getName() + "=" + p.getName()).sorted()
                .collect(Collectors.joining(",", "[", "]"));
    }

    /** The MBeans the answer about {@code name} holds for: all kvmtool Domain MBeans, or just this one. */
    private static String scope(AclLayout.Snapshot layout, ObjectName name) {
        if (layout.domainsShare() && "kvmtool".equals(name.getDomain())
                && "Domain".equals(name.getKeyProperty("type")) && name.getKeyPropertyList().size() == 2
                && !name.isPattern()) {
            return ANY_DOMAIN;
        }
        // as given, not canonical: Karaf's PID lookup follows the key order (KARAF-4600)
        return name.toString();
    }

    private boolean markMutation(boolean allowed) {
        if (allowed) {
            request.get().mutationPending = true;
        }
        return allowed;
    }
}
