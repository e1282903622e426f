package org.kvmtool.manager.jmx;

import java.lang.management.ManagementFactory;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.HostService;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** Publishes {@code kvmtool:type=Host} on the same MBeanServer as {@link JmxComponent}. */
@Component(immediate = true, service = {})
public final class HostJmxComponent {
    static final ObjectName HOST = name("kvmtool:type=Host");
    private static final Logger LOG = Logger.getLogger(HostJmxComponent.class.getName());

    private final MBeanServer server;

    @Activate
    public HostJmxComponent(@Reference(name = "host") HostService host, @Reference(name = "driver") DomainDriver driver,
                            @Reference(name = "mbeanServer", cardinality = ReferenceCardinality.OPTIONAL,
                                    policyOption = ReferencePolicyOption.GREEDY) MBeanServer server) throws JMException {
        this.server = server != null ? server : ManagementFactory.getPlatformMBeanServer();
        if (this.server.isRegistered(HOST)) {
            this.server.unregisterMBean(HOST); // left by a predecessor that died without deactivating
        }
        this.server.registerMBean(new StandardMBean(new HostBean(host, driver), HostMXBean.class, true), HOST);
    }

    @Deactivate
    void deactivate() {
        try {
            server.unregisterMBean(HOST);
        } catch (JMException e) {
            LOG.log(Level.FINE, "unregister " + HOST, e);
        }
    }

    private static ObjectName name(String s) {
        try {
            return new ObjectName(s);
        } catch (JMException e) {
            throw new IllegalArgumentException(s, e);
        }
    }
}
