package org.kvmtool.manager.jmx;

import javax.management.openmbean.CompositeData;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.HypervisorInfo;

/** A thin adapter: the driver as {@link ManagerMXBean}. */
final class ManagerBean implements ManagerMXBean {
    private final DomainDriver driver;
    private final RecentEvents recentEvents;
    private final Registrar registered;

    /** Makes a new domain's MBean exist (and its DEFINED notification sent) before the operation returns. */
    interface Registrar {
        /** Where the driver's events stand, taken before a definition. */
        long mark();

        void defined(String name, long mark);

        void created(String name);
    }
    private final String target = ObjectNames.MANAGER.toString();

    /**
     * @param registered makes sure a domain's MBean exists before defineDomain/createDomain return: a client
     *                   invokes an operation on it at once, and the ACL checks need the MBean registered
     */
    ManagerBean(DomainDriver driver, RecentEvents recentEvents, Registrar registered) {
        this.driver = driver;
        this.recentEvents = recentEvents;
        this.registered = registered;
    }

    @Override
    public String getUri() {
        return JmxEdge.call(target, "read Uri", () -> driver.managerInfo().uri());
    }

    @Override
    public String getVersion() {
        return JmxEdge.call(target, "read Version", () -> driver.managerInfo().version());
    }

    @Override
    public String getHypervisorBinary() {
        return JmxEdge.call(target, "read HypervisorBinary", () -> hypervisor().binary());
    }

    @Override
    public String getHypervisorVersion() {
        return JmxEdge.call(target, "read HypervisorVersion", () -> hypervisor().version());
    }

    @Override
    public boolean isHypervisorAvailable() {
        return JmxEdge.call(target, "read HypervisorAvailable", () -> hypervisor().available());
    }

    @Override
    public String getHypervisorReason() {
        return JmxEdge.call(target, "read HypervisorReason", () -> hypervisor().available() ? null
                : hypervisor().reason());
    }

    @Override
    public String getCgroupLayout() {
        return JmxEdge.call(target, "read CgroupLayout", () -> driver.managerInfo().cgroups().layout());
    }

    @Override
    public boolean isCgroupsUsable() {
        return JmxEdge.call(target, "read CgroupsUsable", () -> driver.managerInfo().cgroups().usable());
    }

    @Override
    public String getCgroupReason() {
        return JmxEdge.call(target, "read CgroupReason", () -> driver.managerInfo().cgroups().usable() ? null
                : driver.managerInfo().cgroups().reason());
    }

    @Override
    public String[] getDomainNames() {
        return JmxEdge.call(target, "read DomainNames",
                () -> driver.list().stream().map(DomainInfo::name).sorted().toArray(String[]::new));
    }

    @Override
    public String[] getActiveDomainNames() {
        return JmxEdge.call(target, "read ActiveDomainNames", () -> driver.list().stream()
                .filter(DomainInfo::isActive).map(DomainInfo::name).sorted().toArray(String[]::new));
    }

    /** The attribute RecentEvents, added by {@link ContractMBean}. */
    CompositeData[] recentEvents() {
        return recentEvents.snapshot();
    }

    @Override
    public String defineDomain(String xml) {
        long mark = registered.mark();
        String name = JmxEdge.call(target, "defineDomain", () -> driver.define(xml));
        registered.defined(name, mark);
        return name;
    }

    @Override
    public String createDomain(String xml) {
        String name = JmxEdge.call(target, "createDomain", () -> driver.create(xml));
        registered.created(name);
        return name;
    }

    @Override
    public void undefineDomain(String name) {
        JmxEdge.run(target, "undefineDomain", () -> driver.undefine(name));
    }

    private HypervisorInfo hypervisor() {
        return driver.managerInfo().hypervisor();
    }
}
