package org.kvmtool.manager.jmx.jolokia;

import java.security.AccessController;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import javax.security.auth.Subject;

/**
 * Karaf's JMX security MBean as far as kvmtool's ACL goes (etc/jmx.acl.kvmtool.cfg): for the subject of the
 * calling thread, get* and is* need viewer or admin, anything else admin. Records the questions.
 */
public final class FakeKarafSecurity implements FakeKarafSecurityMBean {
    /** A role, as Karaf's RolePrincipal. */
    public record Role(String name) implements Principal {
        @Override
        public String getName() {
            return name;
        }
    }

    final List<String> questions = Collections.synchronizedList(new ArrayList<>());
    /** MBeans nobody may touch, as a name-specific PID (jmx.acl.kvmtool.Domain.NAME with "* =") would say. */
    final Set<String> lockedMBeans = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public boolean canInvoke(String objectName, String methodName) {
        questions.add(objectName + " " + methodName);
        return !lockedMBeans.contains(objectName) && decide(methodName);
    }

    @Override
    public boolean canInvoke(String objectName, String methodName, String[] argumentTypes) {
        questions.add(objectName + " " + methodName + Arrays.toString(argumentTypes));
        return !lockedMBeans.contains(objectName) && decide(methodName);
    }

    @SuppressWarnings("removal")
    private static boolean decide(String method) {
        Subject subject = Subject.getSubject(AccessController.getContext());
        Set<String> roles = subject == null ? Set.of() : subject.getPrincipals(Role.class).stream()
                .map(Role::getName).collect(Collectors.toSet());
        if (method.startsWith("get") || method.startsWith("is")) {
            return roles.contains("viewer") || roles.contains("admin");
        }
        return roles.contains("admin");
    }

    static Subject subject(String... roles) {
        Subject s = new Subject();
        for (String r : roles) {
            s.getPrincipals().add(new Role(r));
        }
        s.setReadOnly();
        return s;
    }
}
