package org.kvmtool.manager.jmx;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.CgroupSupport;
import org.kvmtool.manager.api.ConsoleAttachment;
import org.kvmtool.manager.api.ConsoleListener;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainEvent;
import org.kvmtool.manager.api.DomainEventListener;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.HypervisorInfo;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LifecycleEvent;
import org.kvmtool.manager.api.ManagerInfo;
import org.kvmtool.manager.api.StateReason;

/**
 * An in-memory DomainDriver with the real one's rules for names, states and errors, which publishes its
 * events to the listeners in order, like the driver's event thread. The XML is only read for name, memory
 * and vcpu. Thread-safe by one lock.
 */
public final class FakeDomainDriver implements DomainDriver {
    private static final Pattern NAME = Pattern.compile("<name>([^<]*)</name>");
    private static final long MIB = 1024L * 1024;

    final List<DomainEventListener> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, Domain> domains = new TreeMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicLong nextPid = new AtomicLong(1000);
    private int nextId = 1;
    final StringBuilder consoleInput = new StringBuilder();
    /** The fake's wall clock: domains start at this time. */
    static final long NOW = 1_700_000_000_000L;
    volatile HypervisorInfo hypervisor = new HypervisorInfo("/usr/bin/lkvm", true, "3.18.0", null);

    private static final class Domain {
        final String name;
        final UUID uuid = UUID.randomUUID();
        boolean persistent;
        boolean autostart;
        DomainState state = DomainState.SHUTOFF;
        StateReason reason = StateReason.SHUTOFF_UNKNOWN;
        int id = -1;
        long pid = -1;
        long startedAt;
        long currentMemory = 256 * MIB;
        long cpuShares = 1024;
        long memoryLimit = -1;
        long cpuTime;
        String xml;

        Domain(String name) {
            this.name = name;
        }

        DomainInfo info() {
            boolean active = state.isActive();
            return new DomainInfo(name, uuid, id, state, reason, persistent, autostart, pid, 2, 512 * MIB,
                    currentMemory, active ? "/dev/pts/" + (pid % 100) : null, startedAt,
                    active ? List.of(pid + 1, pid + 2) : List.of());
        }
    }

    @Override
    public synchronized ManagerInfo managerInfo() {
        return new ManagerInfo("kvmtool:///session", "0.1.0-test", hypervisor,
                new CgroupSupport("unified", Map.of("cpu", "v2:/sys/fs/cgroup", "memory", "v2:/sys/fs/cgroup"),
                        true, null));
    }

    @Override
    public synchronized List<DomainInfo> list() {
        return domains.values().stream().map(Domain::info).toList();
    }

    /** The next so many lookups fail, as the real driver's may between two steps of a job. */
    final java.util.concurrent.atomic.AtomicInteger failingLookups = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public synchronized Optional<DomainInfo> lookup(String name) {
        if (failingLookups.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new NullPointerException("a domain between two steps of a job");
        }
        return Optional.ofNullable(domains.get(name)).map(Domain::info);
    }

    @Override
    public synchronized Optional<DomainInfo> lookupByUuid(UUID uuid) {
        return domains.values().stream().filter(d -> d.uuid.equals(uuid)).findFirst().map(Domain::info);
    }

    @Override
    public synchronized Optional<DomainInfo> lookupById(int id) {
        return domains.values().stream().filter(d -> d.id == id).findFirst().map(Domain::info);
    }

    @Override
    public synchronized String define(String xml) {
        String name = nameOf(xml);
        Domain d = domains.get(name);
        boolean added = d == null || !d.persistent;
        if (d == null) {
            d = new Domain(name);
            domains.put(name, d);
        }
        d.persistent = true;
        d.xml = xml;
        publish(d, LifecycleEvent.DEFINED, added ? "added" : "updated");
        return name;
    }

    @Override
    public synchronized String create(String xml) {
        String name = nameOf(xml);
        if (domains.containsKey(name)) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain '" + name + "' already exists");
        }
        Domain d = new Domain(name);
        d.xml = xml;
        domains.put(name, d);
        run(d, StateReason.BOOTED);
        publish(d, LifecycleEvent.STARTED, "booted");
        return name;
    }

    @Override
    public synchronized void undefine(String name) {
        Domain d = get(name);
        if (!d.persistent) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "cannot undefine transient domain");
        }
        d.persistent = false;
        if (!d.state.isActive()) {
            domains.remove(name);
        }
        publish(d, LifecycleEvent.UNDEFINED, "removed");
    }

    @Override
    public synchronized void start(String name) {
        Domain d = get(name);
        if (d.state.isActive()) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is already running");
        }
        run(d, StateReason.BOOTED);
        publish(d, LifecycleEvent.STARTED, "booted");
    }

    @Override
    public synchronized void startPaused(String name) {
        start(name);
        suspend(name);
    }

    @Override
    public synchronized void shutdown(String name) {
        Domain d = active(name);
        d.state = DomainState.SHUTDOWN;
        d.reason = StateReason.SHUTDOWN_USER;
        // the fake guest obeys at once
        stop(d, StateReason.SHUTDOWN, "shutdown");
    }

    @Override
    public synchronized void destroy(String name) {
        stop(active(name), StateReason.DESTROYED, "destroyed");
    }

    /** The guest's lkvm died by a signal. */
    synchronized void crash(String name) {
        stop(active(name), StateReason.CRASHED, "crashed");
    }

    @Override
    public synchronized void reboot(String name) {
        Domain d = active(name);
        stop(d, StateReason.SHUTDOWN, "shutdown");
        if (domains.containsKey(name)) {
            run(d, StateReason.BOOTED);
            publish(d, LifecycleEvent.STARTED, "booted");
        }
    }

    @Override
    public synchronized void suspend(String name) {
        Domain d = active(name);
        if (d.state == DomainState.PAUSED) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is already paused");
        }
        d.state = DomainState.PAUSED;
        d.reason = StateReason.PAUSED_USER;
        publish(d, LifecycleEvent.SUSPENDED, "paused");
    }

    @Override
    public synchronized void resume(String name) {
        Domain d = active(name);
        if (d.state != DomainState.PAUSED) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is not paused");
        }
        d.state = DomainState.RUNNING;
        d.reason = StateReason.UNPAUSED;
        publish(d, LifecycleEvent.RESUMED, "unpaused");
    }

    @Override
    public synchronized void setMemory(String name, long bytes) {
        Domain d = get(name);
        if (bytes <= 0 || bytes > 512 * MIB) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "memory must be between 1 and 536870912 bytes");
        }
        d.currentMemory = bytes;
    }

    @Override
    public synchronized void setAutostart(String name, boolean autostart) {
        Domain d = get(name);
        if (!d.persistent) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "cannot set autostart for transient domain");
        }
        d.autostart = autostart;
    }

    @Override
    public synchronized void setCpuShares(String name, long shares) {
        if (shares < 2) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "cpu shares must be at least 2");
        }
        get(name).cpuShares = shares;
    }

    @Override
    public synchronized void setMemoryLimit(String name, long bytes) {
        get(name).memoryLimit = bytes < 0 ? -1 : bytes;
    }

    @Override
    public synchronized String dumpXml(String name) {
        return get(name).xml;
    }

    @Override
    public synchronized CgroupStats stats(String name) {
        Domain d = get(name);
        if (!d.state.isActive()) {
            return new CgroupStats(0, 0, d.memoryLimit, d.cpuShares, List.of(), CgroupStats.Source.CGROUP);
        }
        d.cpuTime += 1_000_000;
        return new CgroupStats(d.cpuTime, 64 * MIB, d.memoryLimit, d.cpuShares, List.of(d.cpuTime / 2, d.cpuTime / 2),
                CgroupStats.Source.CGROUP);
    }

    @Override
    public synchronized String consoleLog(String name, int maxBytes) {
        String log = "Linux version 6.1 (test)\nkvmtool guest " + name + " ready\n";
        byte[] bytes = log.getBytes(StandardCharsets.UTF_8);
        int from = Math.max(0, bytes.length - Math.max(0, maxBytes));
        return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void sendConsole(String name, String text) {
        active(name);
        consoleInput.append(text);
    }

    @Override
    public ConsoleAttachment attachConsole(String name, boolean force, ConsoleListener listener) {
        throw new KvmtoolException(ErrorCode.NO_SUPPORT, "no console in the fake driver");
    }

    @Override
    public Map<String, Long> memoryStats(String name) {
        throw new KvmtoolException(ErrorCode.NO_SUPPORT, "no balloon in the fake driver");
    }

    @Override
    public void addListener(DomainEventListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeListener(DomainEventListener listener) {
        listeners.remove(listener);
    }

    /** Publishes {@code count} suspend/resume pairs as fast as it can (a burst of events). */
    synchronized void burst(String name, int pairs) {
        for (int i = 0; i < pairs; i++) {
            suspend(name);
            resume(name);
        }
    }

    /** Adds {@code count} defined domains, {@code running} of them started, without publishing events. */
    synchronized void populate(int count, int running) {
        for (int i = 0; i < count; i++) {
            Domain d = new Domain(String.format("vm%04d", i));
            d.persistent = true;
            d.xml = "<domain type='kvmtool'><name>" + d.name + "</name></domain>";
            if (i < running) {
                run(d, StateReason.BOOTED);
            }
            domains.put(d.name, d);
        }
    }

    private void run(Domain d, StateReason reason) {
        d.state = DomainState.RUNNING;
        d.reason = reason;
        d.id = nextId++;
        d.pid = nextPid.getAndIncrement();
        d.startedAt = NOW;
    }

    private void stop(Domain d, StateReason reason, String detail) {
        d.state = DomainState.SHUTOFF;
        d.reason = reason;
        d.id = -1;
        d.pid = -1;
        d.startedAt = 0;
        if (!d.persistent) {
            domains.remove(d.name);
        }
        publish(d, LifecycleEvent.STOPPED, detail);
    }

    private Domain get(String name) {
        Domain d = domains.get(name);
        if (d == null) {
            throw new KvmtoolException(ErrorCode.NO_DOMAIN, "domain '" + name + "' not found");
        }
        return d;
    }

    private Domain active(String name) {
        Domain d = get(name);
        if (!d.state.isActive()) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is not running");
        }
        return d;
    }

    private void publish(Domain d, LifecycleEvent event, String detail) {
        long seq = sequence.incrementAndGet();
        DomainEvent e = new DomainEvent(d.name, d.uuid, event, detail, d.state, d.reason, seq, NOW + seq);
        List<DomainEventListener> snapshot = new ArrayList<>(listeners);
        for (DomainEventListener l : snapshot) {
            l.onEvent(e);
        }
    }

    private static String nameOf(String xml) {
        if (xml == null) {
            throw new KvmtoolException(ErrorCode.XML_ERROR, "no domain XML given");
        }
        Matcher m = NAME.matcher(xml);
        if (!m.find()) {
            throw new KvmtoolException(ErrorCode.XML_ERROR, "missing <name> in domain XML");
        }
        return m.group(1);
    }
}
