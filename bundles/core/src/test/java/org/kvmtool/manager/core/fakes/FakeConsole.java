package org.kvmtool.manager.core.fakes;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.kvmtool.manager.api.ConsoleAttachment;
import org.kvmtool.manager.api.ConsoleListener;
import org.kvmtool.manager.api.ConsoleService;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.Pty;

/** Ptys whose output waits until the slave is opened; each open console drains into a bounded ring. */
public final class FakeConsole implements ConsoleService {
    private final FakeHost host;
    private final AtomicInteger fds = new AtomicInteger(100);
    public final Map<String, Ring> rings = new ConcurrentHashMap<>();
    public final Map<String, String> openSlaves = new ConcurrentHashMap<>();
    /** How many opens found the same slave already open (a restarted driver re-taking its session). */
    public final java.util.concurrent.atomic.AtomicInteger reTaken = new java.util.concurrent.atomic.AtomicInteger();

    public FakeConsole(FakeHost host) {
        this.host = host;
    }

    public static final class Ring {
        private final byte[] buf = new byte[64 * 1024];
        private int len;

        synchronized void add(byte[] b) {
            for (byte x : b) {
                if (len == buf.length) {
                    System.arraycopy(buf, 1, buf, 0, len - 1);
                    len--;
                }
                buf[len++] = x;
            }
        }

        synchronized byte[] tail(int max) {
            int n = Math.min(max, len);
            return Arrays.copyOfRange(buf, len - n, len);
        }
    }

    FakeHost.Pty byMaster(int fd) {
        return host.ptys.values().stream().filter(p -> p.masterFd == fd).findFirst().orElse(null);
    }

    public long openMasters() {
        return host.ptys.values().stream().filter(p -> p.masterOpenInJvm).count();
    }

    @Override
    public Pty allocate() {
        int fd = fds.incrementAndGet();
        FakeHost.Pty p = new FakeHost.Pty(fd, "/dev/pts/fake" + fd);
        host.ptys.put(p.slavePath, p);
        return new Pty(fd, p.slavePath);
    }

    @Override
    public void closeMaster(int masterFd) {
        FakeHost.Pty p = byMaster(masterFd);
        if (p != null) {
            p.masterOpenInJvm = false;
        }
    }

    @Override
    public void open(String domain, String slavePath, long ownerPid, String logFile, long maxLogBytes) {
        FakeHost.Pty p = host.ptys.get(slavePath);
        if (p == null) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot open " + slavePath + ": No such file or directory");
        }
        if (ownerPid > 0 && p.holderPid != ownerPid) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, slavePath + " is not the console of pid " + ownerPid);
        }
        String already = openSlaves.putIfAbsent(domain, slavePath);
        if (slavePath.equals(already)) {
            reTaken.incrementAndGet(); // the real service re-takes the session it drains
            return;
        }
        if (already != null) {
            throw new KvmtoolException(ErrorCode.INTERNAL_ERROR, "console of " + domain + " opened twice");
        }
        Ring r = rings.computeIfAbsent(domain, k -> new Ring());
        p.attach(s -> r.add(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void close(String domain) {
        String slave = openSlaves.remove(domain);
        if (slave != null) {
            FakeHost.Pty p = host.ptys.get(slave);
            if (p != null) {
                p.attach(null);
            }
        }
    }

    @Override
    public boolean isOpen(String domain) {
        return openSlaves.containsKey(domain);
    }

    @Override
    public byte[] tail(String domain, int maxBytes) {
        Ring r = rings.get(domain);
        return r == null ? new byte[0] : r.tail(maxBytes);
    }

    @Override
    public void write(String domain, byte[] data) {
        String slave = openSlaves.get(domain);
        if (slave == null) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "console of " + domain + " is not open");
        }
        FakeHost.Pty pty = host.ptys.get(slave);
        host.processes.values().stream().filter(p -> p.pty == pty && p.alive).findFirst()
                .ifPresent(p -> p.type(new String(data, StandardCharsets.UTF_8)));
    }

    @Override
    public AutoCloseable subscribe(String domain, ConsoleListener listener) {
        return () -> { };
    }

    @Override
    public ConsoleAttachment attach(String domain, boolean force, int historyBytes, ConsoleListener listener) {
        throw new KvmtoolException(ErrorCode.NO_SUPPORT, "not in the fake");
    }
}
