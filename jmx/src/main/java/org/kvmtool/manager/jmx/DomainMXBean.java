package org.kvmtool.manager.jmx;

/**
 * {@code kvmtool:type=Domain,name=NAME}: one domain (design.md, "The JMX contract"). Attribute reads make no
 * IPC: the state comes from the driver's snapshot, CPU and memory from the cgroup files.
 *
 * <p>The contract's operation {@code setMemory(long bytes)} is not declared here: by the JMX naming rules a
 * {@code void setMemory(long)} would make a write-only attribute "Memory". {@link ContractMBean} adds it to the
 * MBean as an operation.
 */
public interface DomainMXBean {
    String getName();

    String getUuid();

    /** running, paused, shutdown or shutoff. */
    String getState();

    /** libvirt's reason word for the state: booted, unpaused, user, shutdown, destroyed, crashed, failed... */
    String getStateReason();

    /**
     * The operations the domain's state and persistence admit now, by their MBean names, in a fixed order:
     * start, shutdown, destroy, reboot, suspend, resume, undefine, setMemory, setAutostart, sendConsole,
     * memoryStats ({@link org.kvmtool.manager.api.Operation}, the driver's own table).
     */
    String[] getAllowedOperations();

    boolean isPersistent();

    boolean isAutostart();

    void setAutostart(boolean autostart);

    /** lkvm's pid, -1 when inactive. */
    long getPid();

    int getVcpus();

    long getMaxMemoryBytes();

    /** The balloon target. */
    long getCurrentMemoryBytes();

    long getMemoryUsageBytes();

    /** The cgroup's hard limit, -1 when unlimited. */
    long getMemoryLimitBytes();

    /** Live on a running domain and kept in the definition; a negative value removes the limit. */
    void setMemoryLimitBytes(long bytes);

    long getCpuTimeNanos();

    long getCpuShares();

    void setCpuShares(long shares);

    /** The console's pty, null when inactive. */
    String getConsolePath();

    long getUptimeSeconds();

    /** The kvm-vcpu-N thread ids, index = vCPU; empty when inactive. */
    long[] getVcpuThreadIds();

    /**
     * The traffic counters of each interface with a tap (bridge or ethernet), from the guest's side, in definition
     * order; empty when inactive.
     */
    InterfaceCounters[] getInterfaceStats();

    void start();

    void shutdown();

    void destroy();

    void reboot();

    void suspend();

    void resume();

    void undefine();

    String dumpXml();

    String consoleLog(int maxBytes);

    void sendConsole(String text);
}
