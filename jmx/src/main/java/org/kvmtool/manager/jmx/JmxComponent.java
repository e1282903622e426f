package org.kvmtool.manager.jmx;

import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.util.function.Supplier;

import javax.management.MBeanServer;

import org.kvmtool.manager.api.DomainDriver;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Publishes the driver over JMX. Karaf registers its MBeanServer as a service (the platform one, wrapped for
 * auditing); in a plain framework there is none and the platform MBeanServer serves.
 */
@Component(immediate = true, service = {})
public final class JmxComponent {
    /** Enough for a client polling every few seconds to miss nothing under a burst of starts. */
    static final int RECENT_EVENTS = 1000;
    /** One reading of a domain's cgroup serves the attributes of one bulk read; far below any polling period. */
    static final long STATS_MAX_AGE_MILLIS = 200;

    private final DomainMBeans mbeans;

    @Activate
    public JmxComponent(@Reference(name = "driver") DomainDriver driver,
                        @Reference(name = "mbeanServer", cardinality = ReferenceCardinality.OPTIONAL,
                                policyOption = ReferencePolicyOption.GREEDY) MBeanServer server) {
        this(driver, server, ManagementFactory::getPlatformMBeanServer, Clock.systemUTC());
    }

    JmxComponent(DomainDriver driver, MBeanServer server, Supplier<MBeanServer> platform, Clock clock) {
        this.mbeans = new DomainMBeans(driver, server != null ? server : platform.get(), clock, RECENT_EVENTS,
                STATS_MAX_AGE_MILLIS);
        mbeans.open();
    }

    @Deactivate
    void deactivate() {
        mbeans.close();
    }
}
