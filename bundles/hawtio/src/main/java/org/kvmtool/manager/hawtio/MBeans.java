package org.kvmtool.manager.hawtio;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/** Registration of this bundle's MBeans (the plugin's, the web console's), which may outlive a bundle update. */
public final class MBeans {
    private MBeans() {
    }

    /** Registers {@code mbean}, replacing one an earlier instance of this bundle left behind. */
    public static void register(MBeanServer server, Object mbean, ObjectName name) throws JMException {
        try {
            server.registerMBean(mbean, name);
        } catch (InstanceAlreadyExistsException e) {
            // left behind by an earlier instance of this bundle that was not deactivated cleanly
            server.unregisterMBean(name);
            server.registerMBean(mbean, name);
        }
    }

    /** Unregisters; already gone is fine. */
    public static void unregister(MBeanServer server, ObjectName name) throws JMException {
        try {
            server.unregisterMBean(name);
        } catch (InstanceNotFoundException e) {
            // already gone
        }
    }
}
