package org.kvmtool.manager.api.testing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.kvmtool.manager.api.InterfaceStats;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LifecycleEvent;
import org.kvmtool.manager.api.ManagerInfo;
import org.kvmtool.manager.api.Operation;
import org.kvmtool.manager.api.StateReason;

/**
 * An in-memory DomainDriver with the real one's rules for names, states and errors, for testing the edges
 * (JMX, the libvirt RPC protocol) without lkvm. It publishes its events to the listeners in order, before the
 * call returns. The XML is only read for the name and {@code <memory>} (KiB; 512 MiB when absent; the balloon
 * starts at half of it). An attached console echoes what is typed in upper case, after a banner line.
 * Thread-safe by one lock. The public fields are the tests' handles on the fake guest and the fake host.
 */
public final class FakeDomainDriver implements DomainDriver {
    /** The fake's wall clock: domains start at this time. */
    public static final long NOW = 1_700_000_000_000L;
    private static final Pattern NAME = Pattern.compile("<name>([^<]*)</name>");
    private static final Pattern MEMORY = Pattern.compile("<memory(?:\\s+unit=['\"]KiB['\"])?\\s*>\\s*(\\d+)\\s*</memory>");
    private static final long MIB = 1024L * 1024;
    private static final long DEFAULT_MAX_MEMORY = 512 * MIB;

    public final List<DomainEventListener> listeners = new CopyOnWriteArrayList<>();
    /** What {@link #sendConsole} typed into the guests, all of them. */
    public final StringBuilder consoleInput = new StringBuilder();
    /** What {@link #interfaceStats} reports for a running domain, by name (none when absent). */
    public final Map<String, List<InterfaceStats>> interfaceStats = new java.util.concurrent.ConcurrentHashMap<>();
    /** The next so many lookups fail, as the real driver's may between two steps of a job. */
    public final AtomicInteger failingLookups = new AtomicInteger();
    public volatile HypervisorInfo hypervisor = new HypervisorInfo("/usr/bin/lkvm", true, "3.18.0", null);

    private final Map<String, Domain> domains = new TreeMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicLong nextPid = new AtomicLong(1000);
    private int nextId = 1;

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
        long maxMemory = DEFAULT_MAX_MEMORY;
        long currentMemory = DEFAULT_MAX_MEMORY / 2;
        long cpuShares = 1024;
        long memoryLimit = -1;
        long cpuTime;
        String xml;
        ConsoleListener console;

        Domain(String name) {
            this.name = name;
        }

        void read(String xml) {
            this.xml = xml;
            maxMemory = maxMemoryOf(xml);
            currentMemory = maxMemory / 2;
        }

        DomainInfo info() {
            boolean active = state.isActive();
            return new DomainInfo(name, uuid, id, state, reason, persistent, autostart, pid, 2, maxMemory,
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
        d.read(xml);
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
        d.read(xml);
        domains.put(name, d);
        run(d, StateReason.BOOTED);
        publish(d, LifecycleEvent.STARTED, "booted");
        return name;
    }

    @Override
    public synchronized void undefine(String name) {
        Domain d = admitted(name, Operation.UNDEFINE);
        d.persistent = false;
        if (!d.state.isActive()) {
            domains.remove(name);
        }
        publish(d, LifecycleEvent.UNDEFINED, "removed");
    }

    @Override
    public synchronized void start(String name) {
        Domain d = admitted(name, Operation.START);
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
        Domain d = admitted(name, Operation.SHUTDOWN);
        d.state = DomainState.SHUTDOWN;
        d.reason = StateReason.SHUTDOWN_USER;
        // the fake guest obeys at once
        stop(d, StateReason.SHUTDOWN, "shutdown");
    }

    @Override
    public synchronized void destroy(String name) {
        stop(admitted(name, Operation.DESTROY), StateReason.DESTROYED, "destroyed");
    }

    /** The guest's lkvm died by a signal. */
    public synchronized void crash(String name) {
        stop(active(name), StateReason.CRASHED, "crashed");
    }

    @Override
    public synchronized void reboot(String name) {
        Domain d = admitted(name, Operation.REBOOT);
        stop(d, StateReason.SHUTDOWN, "shutdown");
        if (domains.containsKey(name)) {
            run(d, StateReason.BOOTED);
            publish(d, LifecycleEvent.STARTED, "booted");
        }
    }

    @Override
    public synchronized void suspend(String name) {
        Domain d = admitted(name, Operation.SUSPEND);
        d.state = DomainState.PAUSED;
        d.reason = StateReason.PAUSED_USER;
        publish(d, LifecycleEvent.SUSPENDED, "paused");
    }

    @Override
    public synchronized void resume(String name) {
        Domain d = admitted(name, Operation.RESUME);
        d.state = DomainState.RUNNING;
        d.reason = StateReason.UNPAUSED;
        publish(d, LifecycleEvent.RESUMED, "unpaused");
    }

    @Override
    public synchronized void setMemory(String name, long bytes) {
        Domain d = get(name);
        if (bytes <= 0 || bytes > d.maxMemory) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "memory must be between 1 and " + d.maxMemory + " bytes");
        }
        d.currentMemory = bytes;
    }

    @Override
    public synchronized void setAutostart(String name, boolean autostart) {
        Domain d = admitted(name, Operation.SET_AUTOSTART);
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

    /** Each reading of a running domain finds 1 ms more CPU time than the last. */
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
    public synchronized List<InterfaceStats> interfaceStats(String name) {
        active(name);
        return interfaceStats.getOrDefault(name, List.of());
    }

    /** Sets the CPU time a running domain has used so far (the next reading adds its 1 ms). */
    public synchronized void setCpuTime(String name, long nanos) {
        active(name).cpuTime = nanos;
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
        admitted(name, Operation.CONSOLE);
        consoleInput.append(text);
    }

    @Override
    public synchronized ConsoleAttachment attachConsole(String name, boolean force, int historyBytes,
                                                        ConsoleListener listener) {
        Domain d = admitted(name, Operation.CONSOLE);
        d.console = listener;
        if (historyBytes > 0) {
            listener.output(consoleLog(name, historyBytes).getBytes(StandardCharsets.UTF_8));
        }
        listener.output(("[fake kvmtool console of " + name + "]\r\n").getBytes(StandardCharsets.US_ASCII));
        return new ConsoleAttachment() {
            @Override
            public void write(byte[] data) {
                String typed = new String(data, StandardCharsets.ISO_8859_1);
                listener.output(typed.toUpperCase().getBytes(StandardCharsets.ISO_8859_1));
            }

            @Override
            public boolean isWriter() {
                return true;
            }

            @Override
            public void close() {
                synchronized (FakeDomainDriver.this) {
                    if (d.console == listener) {
                        d.console = null;
                    }
                }
            }
        };
    }

    /** No balloon statistics: the fake guest has no balloon driver. */
    @Override
    public synchronized Map<String, Long> memoryStats(String name) {
        admitted(name, Operation.MEMORY_STATS);
        return Map.of();
    }

    @Override
    public void addListener(DomainEventListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeListener(DomainEventListener listener) {
        listeners.remove(listener);
    }

    /** Publishes {@code pairs} suspend/resume pairs as fast as it can (a burst of events). */
    public synchronized void burst(String name, int pairs) {
        for (int i = 0; i < pairs; i++) {
            suspend(name);
            resume(name);
        }
    }

    /** Adds {@code count} defined domains, {@code running} of them started, without publishing events. */
    public synchronized void populate(int count, int running) {
        for (int i = 0; i < count; i++) {
            Domain d = new Domain(String.format("vm%04d", i));
            d.persistent = true;
            d.read("<domain type='kvmtool'><name>" + d.name + "</name></domain>");
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
        d.cpuTime = 0;
        ConsoleListener console = d.console;
        d.console = null;
        if (console != null) {
            console.closed();
        }
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

    /** The domain, if {@code op} is allowed in its state (the real driver's table). */
    private Domain admitted(String name, Operation op) {
        Domain d = get(name);
        op.check(d.state, d.persistent, name);
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
        for (DomainEventListener l : new ArrayList<>(listeners)) {
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

    private static long maxMemoryOf(String xml) {
        Matcher m = MEMORY.matcher(xml);
        if (!m.find()) {
            return DEFAULT_MAX_MEMORY;
        }
        try {
            return Math.multiplyExact(Long.parseLong(m.group(1)), 1024L);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new KvmtoolException(ErrorCode.XML_ERROR, "memory '" + m.group(1) + "' is out of range", e);
        }
    }
}
