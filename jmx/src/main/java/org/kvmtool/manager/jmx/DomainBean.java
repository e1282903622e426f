package org.kvmtool.manager.jmx;

import java.time.Clock;

import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** A thin adapter: one domain of the driver as {@link DomainMXBean}. No state of its own, no logic. */
final class DomainBean implements DomainMXBean {
    private final String name;
    private final DomainDriver driver;
    private final Clock clock;
    private final String target;

    DomainBean(String name, DomainDriver driver, Clock clock) {
        this.name = name;
        this.driver = driver;
        this.clock = clock;
        this.target = ObjectNames.domain(name).toString();
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
    public boolean isPersistent() {
        return read("Persistent", () -> info().persistent());
    }

    @Override
    public boolean isAutostart() {
        return read("Autostart", () -> info().autostart());
    }

    @Override
    public void setAutostart(boolean autostart) {
        JmxEdge.run(target, "set Autostart", () -> driver.setAutostart(name, autostart));
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
        JmxEdge.run(target, "set MemoryLimitBytes", () -> driver.setMemoryLimit(name, bytes));
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
        JmxEdge.run(target, "set CpuShares", () -> driver.setCpuShares(name, shares));
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

    @Override
    public void start() {
        JmxEdge.run(target, "start", () -> driver.start(name));
    }

    @Override
    public void shutdown() {
        JmxEdge.run(target, "shutdown", () -> driver.shutdown(name));
    }

    @Override
    public void destroy() {
        JmxEdge.run(target, "destroy", () -> driver.destroy(name));
    }

    @Override
    public void reboot() {
        JmxEdge.run(target, "reboot", () -> driver.reboot(name));
    }

    @Override
    public void suspend() {
        JmxEdge.run(target, "suspend", () -> driver.suspend(name));
    }

    @Override
    public void resume() {
        JmxEdge.run(target, "resume", () -> driver.resume(name));
    }

    /** The contract's setMemory(long bytes), exposed as an operation by {@link ContractMBean}. */
    void setMemory(long bytes) {
        JmxEdge.run(target, "setMemory", () -> driver.setMemory(name, bytes));
    }

    @Override
    public void undefine() {
        JmxEdge.run(target, "undefine", () -> driver.undefine(name));
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
        JmxEdge.run(target, "sendConsole", () -> driver.sendConsole(name, text));
    }

    static long uptimeSeconds(DomainInfo info, long nowMillis) {
        if (!info.isActive() || info.startedAtMillis() <= 0) {
            return 0;
        }
        return Math.max(0, (nowMillis - info.startedAtMillis()) / 1000);
    }

    private <T> T read(String attribute, java.util.function.Supplier<T> body) {
        return JmxEdge.call(target, "read " + attribute, body);
    }

    private DomainInfo info() {
        return driver.lookup(name)
                .orElseThrow(() -> new KvmtoolException(ErrorCode.NO_DOMAIN, "domain '" + name + "' not found"));
    }

    private CgroupStats stats() {
        return driver.stats(name);
    }
}
