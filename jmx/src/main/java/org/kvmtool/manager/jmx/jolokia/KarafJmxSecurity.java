package org.kvmtool.manager.jmx.jolokia;

import java.util.Arrays;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * Asks Karaf's JMX security MBean ({@code org.apache.karaf:type=security,area=jmx,...}) the question Karaf's
 * RMI guard asks, with the same method names: "getX"/"isX" (as the MBeanInfo says) with no arguments for a
 * read, "setX" with the attribute's type for a write, the operation with its signature for an invocation.
 * Karaf answers for the JAAS subject of the calling thread, which Jolokia's servlet sets with Subject.doAs.
 * Fails closed: no security MBean, no such MBean or attribute, or any error, means no; and such a "no" is
 * {@link Verdict#UNDECIDED}, so that nobody remembers it as Karaf's answer.
 */
final class KarafJmxSecurity implements AccessDecider {
    private static final Logger LOG = Logger.getLogger(KarafJmxSecurity.class.getName());
    private static final String[] METHOD_SIGNATURE = {String.class.getName(), String.class.getName()};
    private static final String[] METHOD_ARGS_SIGNATURE =
        {String.class.getName(), String.class.getName(), String[].class.getName()};

    private final MBeanServer server;
    private final ObjectName securityPattern;
    private volatile ObjectName security;

    KarafJmxSecurity(MBeanServer server, String securityMBeanPattern) {
        this.server = server;
        try {
            this.securityPattern = new ObjectName(securityMBeanPattern);
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException("not an ObjectName pattern: " + securityMBeanPattern, e);
        }
    }

    @Override
    public Verdict canRead(ObjectName name, String attribute) {
        MBeanAttributeInfo info = attribute(name, attribute);
        return info == null ? Verdict.UNDECIDED : ask(name, (info.isIs() ? "is" : "get") + attribute, new String[0]);
    }

    @Override
    public Verdict canWrite(ObjectName name, String attribute) {
        MBeanAttributeInfo info = attribute(name, attribute);
        return info == null ? Verdict.UNDECIDED : ask(name, "set" + attribute, new String[] {info.getType()});
    }

    @Override
    public Verdict canInvoke(ObjectName name, String operation) {
        String op = operation.trim();
        int paren = op.indexOf('(');
        if (paren < 0) {
            return ask(name, op, null);
        }
        String args = op.substring(paren + 1, op.endsWith(")") ? op.length() - 1 : op.length()).trim();
        String[] types = args.isEmpty() ? new String[0]
                : Arrays.stream(args.split(",")).map(String::trim).toArray(String[]::new);
        return ask(name, op.substring(0, paren).trim(), types);
    }

    private MBeanAttributeInfo attribute(ObjectName name, String attribute) {
        try {
            for (MBeanAttributeInfo info : server.getMBeanInfo(name).getAttributes()) {
                if (info.getName().equals(attribute)) {
                    return info;
                }
            }
            return null;
        } catch (JMException e) {
            LOG.log(Level.FINE, "no MBeanInfo for " + name, e);
            return null;
        }
    }

    /** {@code signature} null = any overload of the method. */
    private Verdict ask(ObjectName name, String method, String[] signature) {
        ObjectName target = security();
        if (target == null) {
            LOG.warning("Karaf's JMX security MBean " + securityPattern + " is not there: refusing " + method
                    + " on " + name);
            return Verdict.UNDECIDED;
        }
        try {
            // ObjectName.toString keeps the key order, which Karaf's ACL PIDs depend on (KARAF-4600)
            Object answer = signature == null
                    ? server.invoke(target, "canInvoke", new Object[] {name.toString(), method}, METHOD_SIGNATURE)
                    : server.invoke(target, "canInvoke", new Object[] {name.toString(), method, signature},
                            METHOD_ARGS_SIGNATURE);
            return answer instanceof Boolean b ? Verdict.of(b) : Verdict.UNDECIDED;
        } catch (InstanceNotFoundException e) {
            security = null;
            LOG.log(Level.WARNING, "Karaf's JMX security MBean went away: refusing " + method + " on " + name, e);
            return Verdict.UNDECIDED;
        } catch (JMException | RuntimeException e) {
            LOG.log(Level.WARNING, "Karaf's JMX security MBean failed: refusing " + method + " on " + name, e);
            return Verdict.UNDECIDED;
        }
    }

    private ObjectName security() {
        ObjectName found = security;
        if (found == null) {
            Set<ObjectName> names = server.queryNames(securityPattern, null);
            found = names.stream().sorted().findFirst().orElse(null);
            security = found;
        }
        return found;
    }
}
