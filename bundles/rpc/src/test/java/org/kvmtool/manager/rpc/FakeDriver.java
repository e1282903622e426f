package org.kvmtool.manager.rpc;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.kvmtool.manager.api.CgroupStats;
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
import org.kvmtool.manager.api.CgroupSupport;

/**
 * An in-memory driver with libvirt's state rules, for testing the protocol layer with the real virsh.
 * Its console echoes input in upper case, as the measured throwaway server did.
 */
final class FakeDriver implements DomainDriver {
    private static final Pattern NAME = Pattern.compile("<name>([^<]+)</name>");

    private final Map<String, Dom> domains = new TreeMap<>();
    private final List<DomainEventListener> listeners = new CopyOnWriteArrayList<>();
    private final ExecutorService events = Executors.newSingleThreadExecutor();
    private int nextId = 1;
    private long seq;

    private static final class Dom {
        String name;
        UUID uuid = UUID.randomUUID();
        int id = -1;
        DomainState state = DomainState.SHUTOFF;
        StateReason reason = StateReason.SHUTOFF_UNKNOWN;
        boolean persistent = true;
        boolean autostart;
        long memory = 64L << 20;
        String xml;
        ConsoleListener console;
    }

    synchronized void add(String name, boolean running) {
        Dom d = new Dom();
        d.name = name;
        d.xml = "<domain type='kvmtool'>\n  <name>" + name + "</name>\n</domain>\n";
        domains.put(name, d);
        if (running) {
            d.id = nextId++;
            d.state = DomainState.RUNNING;
            d.reason = StateReason.BOOTED;
        }
    }

    private Dom get(String name) {
        Dom d = domains.get(name);
        if (d == null) {
            throw new KvmtoolException(ErrorCode.NO_DOMAIN, "domain '" + name + "' not found");
        }
        return d;
    }

    private DomainInfo info(Dom d) {
        return new DomainInfo(d.name, d.uuid, d.id, d.state, d.reason, d.persistent, d.autostart,
                d.id > 0 ? 1000 + d.id : -1, 2, 128L << 20, d.memory, d.id > 0 ? "/dev/pts/99" : null, 0, List.of());
    }

    private void set(Dom d, DomainState s, StateReason r, LifecycleEvent e, String detail) {
        d.state = s;
        d.reason = r;
        DomainEvent ev = new DomainEvent(d.name, d.uuid, e, detail, s, r, ++seq, System.currentTimeMillis());
        events.execute(() -> listeners.forEach(l -> l.onEvent(ev)));
    }

    @Override
    public ManagerInfo managerInfo() {
        return new ManagerInfo("kvmtool:///system", "0.1.0", new HypervisorInfo("/usr/bin/lkvm", true, "3.18.0", null),
                new CgroupSupport("hybrid", Map.of(), true, null));
    }

    @Override
    public synchronized List<DomainInfo> list() {
        return domains.values().stream().map(this::info).toList();
    }

    @Override
    public synchronized Optional<DomainInfo> lookup(String name) {
        return Optional.ofNullable(domains.get(name)).map(this::info);
    }

    @Override
    public synchronized Optional<DomainInfo> lookupByUuid(UUID uuid) {
        return domains.values().stream().filter(d -> d.uuid.equals(uuid)).findFirst().map(this::info);
    }

    @Override
    public synchronized Optional<DomainInfo> lookupById(int id) {
        return domains.values().stream().filter(d -> d.id == id).findFirst().map(this::info);
    }

    @Override
    public synchronized String define(String xml) {
        Matcher m = NAME.matcher(xml);
        if (!m.find()) {
            throw new KvmtoolException(ErrorCode.XML_ERROR, "XML error: missing /domain/name (line 1:1)");
        }
        String name = m.group(1);
        Dom d = domains.get(name);
        if (d == null) {
            add(name, false);
            d = domains.get(name);
        }
        d.xml = xml;
        d.persistent = true;
        set(d, d.state, d.reason, LifecycleEvent.DEFINED, "added");
        return name;
    }

    @Override
    public synchronized String create(String xml) {
        String name = define(xml);
        domains.get(name).persistent = false;
        start(name);
        return name;
    }

    @Override
    public synchronized void undefine(String name) {
        Dom d = get(name);
        if (d.state.isActive()) {
            d.persistent = false;
        } else {
            domains.remove(name);
        }
        set(d, d.state, d.reason, LifecycleEvent.UNDEFINED, "removed");
    }

    @Override
    public synchronized void start(String name) {
        Dom d = get(name);
        if (d.state.isActive()) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is already running");
        }
        d.id = nextId++;
        set(d, DomainState.RUNNING, StateReason.BOOTED, LifecycleEvent.STARTED, "booted");
    }

    @Override
    public synchronized void startPaused(String name) {
        start(name);
        suspend(name);
    }

    @Override
    public synchronized void shutdown(String name) {
        Dom d = get(name);
        if (d.state != DomainState.RUNNING) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is not running");
        }
        stop(d, StateReason.SHUTDOWN, "shutdown");
    }

    private void stop(Dom d, StateReason reason, String detail) {
        d.id = -1;
        ConsoleListener c = d.console;
        d.console = null;
        if (c != null) {
            c.closed();
        }
        set(d, DomainState.SHUTOFF, reason, LifecycleEvent.STOPPED, detail);
        if (!d.persistent) {
            domains.remove(d.name);
        }
    }

    @Override
    public synchronized void destroy(String name) {
        Dom d = get(name);
        if (!d.state.isActive()) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is not running");
        }
        stop(d, StateReason.DESTROYED, "destroyed");
    }

    @Override
    public synchronized void reboot(String name) {
        destroy(name);
        start(name);
    }

    @Override
    public synchronized void suspend(String name) {
        Dom d = get(name);
        if (d.state != DomainState.RUNNING) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is not running");
        }
        set(d, DomainState.PAUSED, StateReason.PAUSED_USER, LifecycleEvent.SUSPENDED, "paused");
    }

    @Override
    public synchronized void resume(String name) {
        Dom d = get(name);
        if (d.state != DomainState.PAUSED) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is not paused");
        }
        set(d, DomainState.RUNNING, StateReason.UNPAUSED, LifecycleEvent.RESUMED, "unpaused");
    }

    @Override
    public synchronized void setMemory(String name, long bytes) {
        Dom d = get(name);
        if (bytes > 128L << 20) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "cannot set memory higher than max memory");
        }
        d.memory = bytes;
    }

    @Override
    public synchronized void setAutostart(String name, boolean autostart) {
        get(name).autostart = autostart;
    }

    @Override
    public void setCpuShares(String name, long shares) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void setMemoryLimit(String name, long bytes) {
        throw new UnsupportedOperationException();
    }

    @Override
    public synchronized String dumpXml(String name) {
        return get(name).xml;
    }

    @Override
    public synchronized CgroupStats stats(String name) {
        get(name);
        return new CgroupStats(123_456_000_000L, 1 << 20, -1, 1024, List.of(), CgroupStats.Source.CGROUP);
    }

    @Override
    public String consoleLog(String name, int maxBytes) {
        return "";
    }

    @Override
    public void sendConsole(String name, String text) {
        throw new UnsupportedOperationException();
    }

    @Override
    public synchronized ConsoleAttachment attachConsole(String name, boolean force, ConsoleListener listener) {
        Dom d = get(name);
        if (!d.state.isActive()) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is not running");
        }
        d.console = listener;
        listener.output(("[fake kvmtool console of " + name + "]\r\n").getBytes(StandardCharsets.US_ASCII));
        return new ConsoleAttachment() {
            @Override
            public void write(byte[] data) {
                listener.output(new String(data, StandardCharsets.ISO_8859_1).toUpperCase().getBytes(StandardCharsets.ISO_8859_1));
            }

            @Override
            public boolean isWriter() {
                return true;
            }

            @Override
            public void close() {
                synchronized (FakeDriver.this) {
                    if (d.console == listener) {
                        d.console = null;
                    }
                }
            }
        };
    }

    @Override
    public Map<String, Long> memoryStats(String name) {
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

    List<DomainEventListener> listeners() {
        return new ArrayList<>(listeners);
    }
}
