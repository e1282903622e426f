package org.kvmtool.manager.jmx;

import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainInfo;

/**
 * The kvmtool MBeans in the MBean server: the Manager, and one Domain MBean per domain that is persistent
 * or active. Touched only on the events thread of {@link DomainMBeans} (and in its close, after that thread).
 */
final class DomainRegistrations {
    private static final Logger LOG = Logger.getLogger(DomainRegistrations.class.getName());

    private final DomainDriver driver;
    private final MBeanServer server;
    private final Clock clock;
    private final long statsMaxAgeMillis;
    private final Consumer<String> removed;
    /** Registered domain MBeans by domain name. */
    private final Map<String, Registered> domains = new HashMap<>();

    /** A registered domain MBean; {@code lastState} is the State its last notification announced. */
    static final class Registered {
        final ObjectName name;
        final Emitter emitter;
        final DomainBean bean;
        String lastState;

        Registered(ObjectName name, Emitter emitter, DomainBean bean, String lastState) {
            this.name = name;
            this.emitter = emitter;
            this.bean = bean;
            this.lastState = lastState;
        }
    }

    /** @param removed told the name of each domain whose MBean goes away */
    DomainRegistrations(DomainDriver driver, MBeanServer server, Clock clock, long statsMaxAgeMillis,
                        Consumer<String> removed) {
        this.driver = driver;
        this.server = server;
        this.clock = clock;
        this.statsMaxAgeMillis = statsMaxAgeMillis;
        this.removed = removed;
    }

    void registerManager(ManagerBean manager, Emitter emitter) {
        register(ObjectNames.MANAGER, new ContractMBean<>(manager, ManagerMXBean.class, emitter,
                ContractTexts.manager(), List.of(), List.of(ContractMBean.ExtraAttribute.readOnly("RecentEvents",
                        Notifications.RECENT_EVENTS_TYPE, ContractTexts.RECENT_EVENTS, manager::recentEvents))));
    }

    Registered get(String name) {
        return domains.get(name);
    }

    boolean contains(String name) {
        return domains.containsKey(name);
    }

    Set<String> names() {
        return Set.copyOf(domains.keySet());
    }

    /**
     * Makes the MBean of {@code name} exist exactly when the driver has the domain and it is persistent or
     * active. {@code initialState} seeds the State change notifications of a new MBean.
     */
    Registered reconcile(String name, String initialState) {
        Optional<DomainInfo> info = driver.lookup(name);
        boolean wanted = info.isPresent() && (info.get().persistent() || info.get().isActive());
        Registered current = domains.get(name);
        if (wanted && current == null) {
            current = registerDomain(name, initialState);
        } else if (!wanted && current != null) {
            remove(name);
            current = null;
        }
        return current;
    }

    void remove(String name) {
        removed.accept(name);
        Registered gone = domains.remove(name);
        if (gone != null) {
            unregister(gone.name);
        }
    }

    /** Unregisters every domain MBean, then the Manager. */
    void unregisterAll() {
        for (Registered r : domains.values()) {
            unregister(r.name);
        }
        domains.clear();
        unregister(ObjectNames.MANAGER);
    }

    private Registered registerDomain(String name, String initialState) {
        ObjectName objectName = ObjectNames.domain(name);
        Emitter emitter = new Emitter(Notifications.domainNotifications());
        DomainBean bean = new DomainBean(name, driver, clock, statsMaxAgeMillis);
        ContractMBean<DomainMXBean> mbean = new ContractMBean<>(bean, DomainMXBean.class, emitter,
                ContractTexts.domain(), List.of(ContractMBean.ExtraOperation.voidOfLong("setMemory",
                        ContractTexts.SET_MEMORY, "bytes", "the balloon target, bytes", bean::setMemory)), List.of());
        if (!register(objectName, mbean)) {
            return null;
        }
        Registered registered = new Registered(objectName, emitter, bean, initialState);
        domains.put(name, registered);
        return registered;
    }

    private boolean register(ObjectName name, Object mbean) {
        try {
            server.registerMBean(mbean, name);
            return true;
        } catch (InstanceAlreadyExistsException stale) {
            // left behind by an earlier instance of this component (e.g. a failed deactivation): ours replaces it
            LOG.warning("kvmtool JMX: replacing a stale " + name);
            unregister(name);
            try {
                server.registerMBean(mbean, name);
                return true;
            } catch (JMException e) {
                LOG.log(Level.SEVERE, "kvmtool JMX: could not register " + name, e);
                return false;
            }
        } catch (JMException e) {
            LOG.log(Level.SEVERE, "kvmtool JMX: could not register " + name, e);
            return false;
        }
    }

    private void unregister(ObjectName name) {
        try {
            server.unregisterMBean(name);
        } catch (InstanceNotFoundException gone) {
            // someone else removed it: nothing to do
        } catch (JMException e) {
            LOG.log(Level.WARNING, "kvmtool JMX: could not unregister " + name, e);
        }
    }
}
