package org.kvmtool.manager.api;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The stateful driver: owns definitions, lifecycle and the truth about every domain. Every operation is a
 * job on its domain (one at a time); an operation invalid in the current state fails with
 * OPERATION_INVALID and a message naming the state ("domain is not running"); an unknown name fails
 * with NO_DOMAIN ("domain 'x' not found"). The JMX, shell, deploy and RPC bundles are thin adapters on
 * this interface.
 */
public interface DomainDriver {
    ManagerInfo managerInfo();

    /** All domains, sorted by name. */
    List<DomainInfo> list();

    Optional<DomainInfo> lookup(String name);

    Optional<DomainInfo> lookupByUuid(UUID uuid);

    Optional<DomainInfo> lookupById(int id);

    /** Defines (or redefines: effective at next start) a persistent domain; returns its name. */
    String define(String xml);

    /** Creates and starts a transient domain; returns its name. */
    String create(String xml);

    /** Removes the definition; a running domain keeps running as a transient one. */
    void undefine(String name);

    void start(String name);

    /** Starts the domain paused (virsh start --paused). */
    void startPaused(String name);

    /** Asks the guest to end (SysRq s, u, b); the state is shutdown until lkvm ends. */
    void shutdown(String name);

    /** Ends lkvm at once (STOP, then SIGKILL). */
    void destroy(String name);

    /** kvmtool has no reboot: stop and start again. */
    void reboot(String name);

    void suspend(String name);

    void resume(String name);

    /** Sets the balloon target (bytes, at most the maximum); on a running domain through lkvm's balloon. */
    void setMemory(String name, long bytes);

    void setAutostart(String name, boolean autostart);

    /** Live on a running domain, and kept in the definition. */
    void setCpuShares(String name, long shares);

    /** Live on a running domain, and kept in the definition; {@code bytes} < 0 = unlimited. */
    void setMemoryLimit(String name, long bytes);

    /** The definition as canonical libvirt XML. */
    String dumpXml(String name);

    /** CPU time, memory and limits, from the cgroup (or /proc); zeros with source CGROUP only when inactive. */
    CgroupStats stats(String name);

    /**
     * The traffic counters of each interface of an active domain that has a tap, in definition order (from the
     * guest's side: see {@link InterfaceStats}); OPERATION_INVALID when the domain is not running.
     */
    default List<InterfaceStats> interfaceStats(String name) {
        throw new KvmtoolException(ErrorCode.NO_SUPPORT, "interface statistics are not supported by this driver");
    }

    /** The last {@code maxBytes} bytes of console output. */
    String consoleLog(String name, int maxBytes);

    /** Sends text to the console (refused while an interactive session holds the console). */
    void sendConsole(String name, String text);

    /** An interactive console session with no history; the domain must be active. */
    default ConsoleAttachment attachConsole(String name, boolean force, ConsoleListener listener) {
        return attachConsole(name, force, 0, listener);
    }

    /**
     * An interactive console session (see {@link ConsoleService#attach(String, boolean, int, ConsoleListener)}):
     * the last {@code historyBytes} of the console first, then the live output; the domain must be active.
     */
    ConsoleAttachment attachConsole(String name, boolean force, int historyBytes, ConsoleListener listener);

    /** Balloon statistics through lkvm's STAT, only on explicit request, with a timeout. */
    java.util.Map<String, Long> memoryStats(String name);

    void addListener(DomainEventListener listener);

    void removeListener(DomainEventListener listener);
}
