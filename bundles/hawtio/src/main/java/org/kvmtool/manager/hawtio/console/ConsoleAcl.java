package org.kvmtool.manager.hawtio.console;

import java.security.PrivilegedAction;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.security.auth.Subject;

/**
 * Who may use a domain's console: whoever Karaf's JMX ACL (etc/jmx.acl*.cfg) lets invoke {@code sendConsole} on
 * the domain's MBean, the same question the tab asks (canInvoke of Karaf's JMX security MBean) to show the
 * console at all, and the one /hawtio/jolokia and /jolokia would answer for sendConsole itself. Karaf answers
 * for the JAAS subject of the calling thread, so the question is asked as the subject. Fails closed: no
 * security MBean, or any error, is a no.
 */
final class ConsoleAcl {
    private static final Logger LOG = Logger.getLogger(ConsoleAcl.class.getName());
    static final String OPERATION = "sendConsole";
    private static final String[] SIGNATURE = {String.class.getName(), String.class.getName()};

    private final MBeanServer server;
    private final ObjectName securityPattern;

    ConsoleAcl(MBeanServer server, String securityMBeanPattern) {
        this.server = server;
        try {
            this.securityPattern = new ObjectName(securityMBeanPattern);
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException("not an ObjectName pattern: " + securityMBeanPattern, e);
        }
    }

    @SuppressWarnings("removal") // Subject.doAs: Karaf 4.4's guard reads the subject of the access control context
    boolean mayUseConsole(Subject subject, String domain) {
        ObjectName security = server.queryNames(securityPattern, null).stream().sorted().findFirst().orElse(null);
        if (security == null) {
            LOG.warning("Karaf's JMX security MBean " + securityPattern + " is not there: console of '" + domain
                    + "' refused");
            return false;
        }
        String mbean = DomainNames.objectName(domain);
        try {
            Object answer = Subject.doAs(subject, (PrivilegedAction<Object>) () -> {
                try {
                    return server.invoke(security, "canInvoke", new Object[] {mbean, OPERATION}, SIGNATURE);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            return Boolean.TRUE.equals(answer);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "Karaf's JMX security MBean failed: console of '" + domain + "' refused", e);
            return false;
        }
    }

    /** The user's name, for the log: the principal Karaf's login modules call the user. */
    static String userName(Subject subject) {
        Set<java.security.Principal> principals = subject.getPrincipals();
        return principals.stream().filter(p -> p.getClass().getSimpleName().equals("UserPrincipal"))
                .map(java.security.Principal::getName).findFirst()
                .orElse(principals.isEmpty() ? "?" : principals.iterator().next().getName());
    }
}
