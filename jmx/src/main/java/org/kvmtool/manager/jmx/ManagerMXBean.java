package org.kvmtool.manager.jmx;

/**
 * {@code kvmtool:type=Manager}: the manager as a whole (design.md, "The JMX contract"). Open types only,
 * so that a client needs none of our classes.
 *
 * <p>{@link ContractMBean} adds the attribute {@code RecentEvents} (CompositeData[]): the last lifecycle
 * events, oldest first, as in the userData of the {@code kvmtool.domain.lifecycle} notifications; a pull feed
 * for clients without JMX notifications (Jolokia 1.x has none). An MXBean would map a CompositeData getter as
 * a bean, hence not declared here. An addition to the contract.
 */
public interface ManagerMXBean {
    String getUri();

    String getVersion();

    String getHypervisorBinary();

    /** null when the hypervisor is not available. */
    String getHypervisorVersion();

    boolean isHypervisorAvailable();

    /** Why the hypervisor is not available; null when it is. An addition to the contract. */
    String getHypervisorReason();

    /** The host's cgroup layout: unified, legacy, hybrid or none. An addition to the contract. */
    String getCgroupLayout();

    /** Whether the manager can create the domains' cgroups. An addition to the contract. */
    boolean isCgroupsUsable();

    /** Why cgroups are not usable; null when they are. An addition to the contract. */
    String getCgroupReason();

    /** Every domain, sorted by name. */
    String[] getDomainNames();

    /** The active domains (running, paused, shutting down), sorted by name. */
    String[] getActiveDomainNames();

    /** Defines or redefines a persistent domain (a redefinition takes effect at next start); returns its name. */
    String defineDomain(String xml);

    /** Creates and starts a transient domain; returns its name. */
    String createDomain(String xml);

    void undefineDomain(String name);
}
