package org.kvmtool.manager.lean.jolokia;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.security.AccessController;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.ObjectName;
import javax.security.auth.Subject;

import org.jolokia.server.core.config.ConfigKey;
import org.jolokia.server.core.config.Configuration;
import org.jolokia.server.core.restrictor.DenyAllRestrictor;
import org.jolokia.server.core.restrictor.policy.PolicyRestrictor;
import org.jolokia.server.core.service.api.Restrictor;
import org.jolokia.server.core.util.HttpMethod;
import org.jolokia.server.core.util.RequestType;
import org.kvmtool.manager.lean.jaas.RolePrincipal;

/**
 * The Jolokia JVM agent's restrictor (agent option {@code restrictorClass}): the access policy file
 * (option {@code policyLocation}) AND the roles of the request's user. The agent authenticates with JAAS
 * ({@code authMode=jaas}) and runs each request inside {@code Subject.doAs} with the subject the login
 * module made (JolokiaHttpHandler), so the roles are the {@link RolePrincipal}s of the current subject.
 * <p>
 * Two rules the policy format cannot express:
 * <ul>
 * <li><b>POST for exec and write.</b> Jolokia asks {@link #isHttpMethodAllowed} without the request type,
 * but right after {@link #isOperationAllowed} or {@link #isAttributeWriteAllowed} of the same request, on
 * the same thread (AbstractCommandHandler: checkForRestriction, then checkHttpMethod). An allowed exec or
 * write leaves a mark on the thread and the method check that follows refuses anything but POST.
 * {@link #isRemoteAccessAllowed} opens every HTTP request and clears the mark.</li>
 * <li><b>Origins checked on every request</b>: one that carries an Origin (or a Referer) must match the
 * policy's allow-origin list; one without is no browser's cross-site request and passes.</li>
 * </ul>
 * A missing or unreadable policy denies everything: the agent is never open by accident.
 */
public final class RoleRestrictor implements Restrictor {
    private static final Logger LOG = Logger.getLogger(RoleRestrictor.class.getName());

    private final Restrictor policy;
    private final Supplier<Set<String>> roles;
    private final ThreadLocal<boolean[]> mutationPending = ThreadLocal.withInitial(() -> new boolean[1]);

    /** The agent's constructor: the policy from {@code policyLocation}, the roles from the JAAS subject. */
    public RoleRestrictor(Configuration config) {
        this(loadPolicy(config.getConfig(ConfigKey.POLICY_LOCATION)), RoleRestrictor::currentRoles);
    }

    RoleRestrictor(Restrictor policy, Supplier<Set<String>> roles) {
        this.policy = policy;
        this.roles = roles;
    }

    static Restrictor loadPolicy(String location) {
        if (location == null || location.isBlank() || location.startsWith("classpath:")) {
            LOG.severe("kvmtool Jolokia restrictor: no policy file (agent option policyLocation=file:...): "
                    + "denying every request");
            return new DenyAllRestrictor();
        }
        try (InputStream in = new URL(location).openStream()) {
            return new PolicyRestrictor(in);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.SEVERE, "kvmtool Jolokia restrictor: cannot read the policy " + location
                    + ": denying every request", e);
            return new DenyAllRestrictor();
        }
    }

    /** The roles of the subject the agent runs the current request as; none outside of {@code doAs}. */
    @SuppressWarnings("removal") // Subject.current() is Java 18+; on 17 this is the way
    static Set<String> currentRoles() {
        Subject subject = Subject.getSubject(AccessController.getContext());
        Set<String> names = new HashSet<>();
        if (subject != null) {
            for (RolePrincipal r : subject.getPrincipals(RolePrincipal.class)) {
                names.add(r.getName());
            }
        }
        return names;
    }

    private Access access() {
        return Access.of(roles.get());
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
        return policy.isTypeAllowed(type) && access().allowsType(type);
    }

    @Override
    public boolean isAttributeReadAllowed(ObjectName name, String attribute) {
        return policy.isAttributeReadAllowed(name, attribute) && access().allowsRead();
    }

    @Override
    public boolean isAttributeWriteAllowed(ObjectName name, String attribute) {
        return markMutation(policy.isAttributeWriteAllowed(name, attribute) && access().allowsChange());
    }

    @Override
    public boolean isOperationAllowed(ObjectName name, String operation) {
        return markMutation(policy.isOperationAllowed(name, operation) && access().allowsChange());
    }

    @Override
    public boolean isObjectNameHidden(ObjectName name) {
        return policy.isObjectNameHidden(name);
    }

    @Override
    public boolean ignoreScheme() {
        return policy.ignoreScheme();
    }

    private boolean markMutation(boolean allowed) {
        if (allowed) {
            mutationPending.get()[0] = true;
        }
        return allowed;
    }
}
