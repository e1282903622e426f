package org.kvmtool.manager.jmx;

import java.time.Clock;

import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.Operation;

/**
 * A thin adapter: one domain of the driver as {@link DomainMXBean}. Its only state: the last cgroup figures,
 * kept for {@code statsMaxAgeMillis} so that the CPU and memory attributes of one bulk read come from one
 * reading of the cgroup files (and agree with each other); every write and operation through this MBean, and
 * every lifecycle event, drops them.
 */
final class DomainBean implements DomainMXBean {
    private final String name;
    private final DomainDriver driver;
    private final Clock clock;
    private final long statsMaxAgeMillis;
    private final String target;
    private volatile StatsReading lastStats;

    private record StatsReading(CgroupStats stats, long atMillis) {
    }

    DomainBean(String name, DomainDriver driver, Clock clock, long statsMaxAgeMillis) {
        this.name = name;
        this.driver = driver;
        this.clock = clock;
        this.statsMaxAgeMillis = statsMaxAgeMillis;
        this.target = ObjectNames.domain(name).toString();
    }

    /** Forgets the last cgroup figures: the next read goes to the cgroup files. */
    void invalidate() {
        lastStats = null;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public String getUuid() {
        return read("Uuid", () -> info().uuid().toString());
    }

    @Override
    public String getState() {
        return read("State", () -> info().state().word());
    }

    @Override
    public String getStateReason() {
        return read("StateReason", () -> info().reason().word());
    }

    @Override
    public String[] getAllowedOperations() {
        return read("AllowedOperations", () -> info().allowedOperations().stream().map(Operation::mbeanName)
                .toArray(String[]::new));
    }

    @Override
    public boolean isPersistent() {
        return read("Persistent", () -> info().persistent());
    }

    @Override
    public boolean isAutostart() {
        return read("Autostart", () -> info().autostart());
    }

    @Override
    public void setAutostart(boolean autostart) {
        act("set Autostart", () -> driver.setAutostart(name, autostart));
    }

    @Override
    public long getPid() {
        return read("Pid", () -> info().pid());
    }

    @Override
    public int getVcpus() {
        return read("Vcpus", () -> info().vcpus());
    }

    @Override
    public long getMaxMemoryBytes() {
        return read("MaxMemoryBytes", () -> info().maxMemoryBytes());
    }

    @Override
    public long getCurrentMemoryBytes() {
        return read("CurrentMemoryBytes", () -> info().currentMemoryBytes());
    }

    @Override
    public long getMemoryUsageBytes() {
        return read("MemoryUsageBytes", () -> stats().memoryUsageBytes());
    }

    @Override
    public long getMemoryLimitBytes() {
        return read("MemoryLimitBytes", () -> stats().memoryLimitBytes());
    }

    @Override
    public void setMemoryLimitBytes(long bytes) {
        act("set MemoryLimitBytes", () -> driver.setMemoryLimit(name, bytes));
    }

    @Override
    public long getCpuTimeNanos() {
        return read("CpuTimeNanos", () -> stats().cpuTimeNanos());
    }

    @Override
    public long getCpuShares() {
        return read("CpuShares", () -> stats().cpuShares());
    }

    @Override
    public void setCpuShares(long shares) {
        act("set CpuShares", () -> driver.setCpuShares(name, shares));
    }

    @Override
    public String getConsolePath() {
        return read("ConsolePath", () -> info().consolePath());
    }

    @Override
    public long getUptimeSeconds() {
        return read("UptimeSeconds", () -> uptimeSeconds(info(), clock.millis()));
    }

    @Override
    public long[] getVcpuThreadIds() {
        return read("VcpuThreadIds", () -> info().vcpuThreadIds().stream().mapToLong(Long::longValue).toArray());
    }

    /** Empty when inactive: a bulk read of every attribute (Hawtio, Jolokia) must not fail on a shut-off domain. */
    @Override
    public InterfaceCounters[] getInterfaceStats() {
        return read("InterfaceStats", () -> {
            try {
                return driver.interfaceStats(name).stream().map(InterfaceCounters::of).toArray(InterfaceCounters[]::new);
            } catch (KvmtoolException e) {
                if (e.code() == ErrorCode.OPERATION_INVALID && !info().isActive()) {
                    return new InterfaceCounters[0];
                }
                throw e;
            }
        });
    }

    @Override
    public void start() {
        act("start", () -> driver.start(name));
    }

    @Override
    public void shutdown() {
        act("shutdown", () -> driver.shutdown(name));
    }

    @Override
    public void destroy() {
        act("destroy", () -> driver.destroy(name));
    }

    @Override
    public void reboot() {
        act("reboot", () -> driver.reboot(name));
    }

    @Override
    public void suspend() {
        act("suspend", () -> driver.suspend(name));
    }

    @Override
    public void resume() {
        act("resume", () -> driver.resume(name));
    }

    /** The contract's setMemory(long bytes), exposed as an operation by {@link ContractMBean}. */
    void setMemory(long bytes) {
        act("setMemory", () -> driver.setMemory(name, bytes));
    }

    @Override
    public void undefine() {
        act("undefine", () -> driver.undefine(name));
    }

    @Override
    public String dumpXml() {
        return JmxEdge.call(target, "dumpXml", () -> driver.dumpXml(name));
    }

    @Override
    public String consoleLog(int maxBytes) {
        return JmxEdge.call(target, "consoleLog", () -> driver.consoleLog(name, maxBytes));
    }

    @Override
    public void sendConsole(String text) {
        act("sendConsole", () -> driver.sendConsole(name, text));
    }

    static long uptimeSeconds(DomainInfo info, long nowMillis) {
        if (!info.isActive() || info.startedAtMillis() <= 0) {
            return 0;
        }
        return Math.max(0, (nowMillis - info.startedAtMillis()) / 1000);
    }

    private void act(String action, Runnable body) {
        try {
            JmxEdge.run(target, action, body);
        } finally {
            invalidate();
        }
    }

    private <T> T read(String attribute, java.util.function.Supplier<T> body) {
        return JmxEdge.call(target, "read " + attribute, body);
    }

    private DomainInfo info() {
        return driver.lookup(name)
                .orElseThrow(() -> new KvmtoolException(ErrorCode.NO_DOMAIN, "domain '" + name + "' not found"));
    }

    private CgroupStats stats() {
        StatsReading last = lastStats;
        long now = clock.millis();
        if (last != null && now >= last.atMillis() && now - last.atMillis() < statsMaxAgeMillis) {
            return last.stats();
        }
        CgroupStats fresh = driver.stats(name);
        lastStats = new StatsReading(fresh, now);
        return fresh;
    }
}
