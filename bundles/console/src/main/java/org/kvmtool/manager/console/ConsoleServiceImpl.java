package org.kvmtool.manager.console;

import org.kvmtool.manager.api.ConsoleAttachment;
import org.kvmtool.manager.api.ConsoleListener;
import org.kvmtool.manager.api.ConsoleService;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.Pty;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Consoles on ptys (design.md, "Console"): lkvm holds the master as its stdio; this service opens the
 * slave by path, raw with TCSANOW, and one thread drains every console into a ring, a rotated log and
 * the subscribers' outboxes. Closing a slave never affects lkvm, so deactivation just closes ours; a new
 * instance reopens the recorded paths and reads on where this one stopped (the pty held the rest).
 */
// immediate: a delayed component is disposed with its last user, so an update of the driver would rebuild it
// (and a console service would drop every console's ring and reopen its pty); infrastructure outlives the driver
@Component(service = ConsoleService.class, configurationPid = ConsoleServiceImpl.PID, immediate = true)
@Designate(ocd = ConsoleServiceImpl.Config.class)
public final class ConsoleServiceImpl implements ConsoleService {
    static final String PID = "org.kvmtool.manager.console";
    private static final System.Logger LOG = System.getLogger(ConsoleServiceImpl.class.getName());

    @ObjectClassDefinition(name = "kvmtool-manager consoles",
            description = "Buffers and timeouts of the guests' consoles")
    public @interface Config {
        @AttributeDefinition(description = "Latest output kept in memory per domain (bytes)")
        int ring_bytes() default 64 * 1024;

        @AttributeDefinition(description = "How long a write waits for a guest that does not read its input (ms)")
        long write_timeout_millis() default 5000;

        @AttributeDefinition(description = "How far a reader (attach session, subscriber) may fall behind "
                + "before it is detached (bytes); the log keeps everything regardless")
        long reader_backlog_bytes() default 8L * 1024 * 1024;

        @AttributeDefinition(description = "Threads that deliver output to readers")
        int delivery_threads() default 2;
    }

    /** Everything tunable, including the /proc root (fixture trees in tests). */
    record Settings(int ringBytes, long writeTimeoutMillis, long readerBacklogBytes, int deliveryThreads,
                    Path procRoot) {
        static Settings of(Config c) {
            return new Settings(c.ring_bytes(), c.write_timeout_millis(), c.reader_backlog_bytes(),
                    c.delivery_threads(), Path.of("/proc"));
        }
    }

    private final Settings settings;
    private final Posix posix;
    private final PtyOwnership ownership;
    private final ExecutorService delivery;
    private final Drainer drainer;
    private final Map<String, Console> open = new ConcurrentHashMap<>();
    private final Map<String, Ring> rings = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    /** Serialises open/close (and shutdown) so a domain never has two consoles; never held by the drain thread. */
    private final ReentrantLock lifecycle = new ReentrantLock();
    private volatile boolean closed;

    @Activate
    public ConsoleServiceImpl(Config config) {
        this(Settings.of(config));
    }

    ConsoleServiceImpl(Settings settings) {
        this.settings = settings;
        this.posix = new Posix();
        this.ownership = new PtyOwnership(settings.procRoot());
        this.delivery = Executors.newFixedThreadPool(settings.deliveryThreads(), named("kvmtool-console-deliver-"));
        try {
            this.drainer = new Drainer(posix, c -> open.remove(c.domain, c));
        } catch (ErrnoException e) {
            delivery.shutdown();
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot start the console thread: " + e.getMessage(), e);
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Closes every console this instance holds (never lkvm's side) and stops its threads. */
    @Deactivate
    public void deactivate() {
        lifecycle.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            drainer.close(); // ends every console: listeners are told closed()
        } finally {
            lifecycle.unlock();
        }
        delivery.shutdown(); // lets the closed() calls already queued run
        try {
            if (!delivery.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "console readers still busy at shutdown");
                delivery.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The drain thread's id, for CPU accounting in benchmarks. */
    long drainThreadId() {
        return drainer.threadId();
    }

    @Override
    public Pty allocate() {
        try {
            int master = posix.openPtyMaster();
            try {
                return new Pty(master, posix.ptsName(master));
            } catch (ErrnoException e) {
                closeMaster(master);
                throw e;
            }
        } catch (ErrnoException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot allocate a console pty: " + e.getMessage(), e);
        }
    }

    @Override
    public void closeMaster(int masterFd) {
        try {
            posix.close(masterFd);
        } catch (ErrnoException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot close a console pty: " + e.getMessage(), e);
        }
    }

    @Override
    public void open(String domain, String slavePath, long ownerPid, String logFile, long maxLogBytes) {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(slavePath, "slavePath");
        Objects.requireNonNull(logFile, "logFile");
        lifecycle.lock();
        try {
            requireRunning();
            Console current = open.get(domain);
            if (current != null && !current.isEnded() && current.slavePath.equals(slavePath)
                    && current.logFile.equals(logFile)) {
                // already draining it: a restarted driver re-takes the session (ring, log, readers, writer)
                // instead of closing the slave, which would make lkvm's term-poll spin on the hangup meanwhile
                return;
            }
            if (current != null) { // the domain was restarted without a close: the old pty is history
                drainer.end(current);
            }
            Console c = openSlave(domain, slavePath, ownerPid, logFile, maxLogBytes);
            open.put(domain, c);
            try {
                drainer.watch(c);
            } catch (RuntimeException e) {
                open.remove(domain, c);
                c.ended();
                throw e;
            }
        } finally {
            lifecycle.unlock();
        }
    }

    private Console openSlave(String domain, String slavePath, long ownerPid, String logFile, long maxLogBytes) {
        String what = "console of '" + domain + "': ";
        int fd;
        try {
            fd = posix.open(slavePath, Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
        } catch (ErrnoException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, what + e.getMessage(), e);
        }
        SlaveFd slave = new SlaveFd(posix, fd);
        Owner owner = null;
        try {
            // Checked once we hold the slave: from then on its number cannot pass to another pty.
            owner = ownerPid > 0 ? Owner.take(posix, ownership, what, slavePath, ownerPid) : null;
            posix.makeRaw(fd);
            ConsoleLog log = new ConsoleLog(Path.of(logFile), maxLogBytes);
            // a live guest this instance never drained (this bundle was updated, or Karaf restarted): its
            // history so far is in the log, so consoleLog() goes on showing it
            Ring ring = rings.computeIfAbsent(domain, d -> ownerPid > 0 ? seeded(Path.of(logFile)) : new Ring(settings.ringBytes()));
            return new Console(domain, slavePath, logFile, ids.incrementAndGet(), posix, slave, owner, ring, log,
                    settings.writeTimeoutMillis());
        } catch (IOException | RuntimeException e) {
            if (owner != null) {
                owner.close(posix);
            }
            slave.close();
            if (e instanceof KvmtoolException k) {
                throw k;
            }
            String why = e instanceof IOException && !(e instanceof ErrnoException)
                    ? "cannot write the log " + logFile + ": " + e : e.getMessage();
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, what + why, e);
        }
    }

    /** A ring holding the end of the log file; empty when there is none (or it cannot be read). */
    private Ring seeded(Path logFile) {
        Ring ring = new Ring(settings.ringBytes());
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(logFile)) {
            long size = ch.size();
            java.nio.ByteBuffer tail = java.nio.ByteBuffer.allocate((int) Math.min(size, settings.ringBytes()));
            ch.position(size - tail.capacity());
            while (tail.hasRemaining() && ch.read(tail) >= 0) {
                // until full
            }
            byte[] data = new byte[tail.position()];
            tail.flip().get(data);
            ring.append(data);
        } catch (java.nio.file.NoSuchFileException e) {
            // never logged
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "console log " + logFile + " not read back: " + e);
        }
        return ring;
    }

    @Override
    public void close(String domain) {
        lifecycle.lock();
        try {
            Console c = open.get(domain);
            if (c != null && !closed) {
                drainer.end(c);
            }
        } finally {
            lifecycle.unlock();
        }
    }

    @Override
    public boolean isOpen(String domain) {
        Console c = open.get(domain);
        return c != null && !c.isEnded();
    }

    @Override
    public byte[] tail(String domain, int maxBytes) {
        Ring ring = rings.get(domain);
        return ring == null ? new byte[0] : ring.tail(maxBytes);
    }

    @Override
    public void write(String domain, byte[] data) {
        Console c = live(domain);
        if (c.hasWriter()) {
            throw c.inUse();
        }
        c.write(data);
    }

    @Override
    public AutoCloseable subscribe(String domain, ConsoleListener listener) {
        Console c = live(domain);
        Subscriber s = c.subscribe(subscriber(domain, listener));
        return () -> c.unsubscribe(s);
    }

    @Override
    public ConsoleAttachment attach(String domain, boolean force, int historyBytes, ConsoleListener listener) {
        Console c = live(domain);
        return new Attachment(c).join(force, historyBytes, subscriber(domain, listener));
    }

    private Subscriber subscriber(String domain, ConsoleListener listener) {
        Objects.requireNonNull(listener, "listener");
        return new Subscriber(listener, delivery, settings.readerBacklogBytes(), why -> LOG.log(
                System.Logger.Level.WARNING, "a reader of the console of '" + domain + "' " + why + ": detached"));
    }

    private Console live(String domain) {
        requireRunning();
        Console c = open.get(domain);
        if (c == null || c.isEnded()) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "console of '" + domain + "' is not open");
        }
        return c;
    }

    private void requireRunning() {
        if (closed) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "the console service has stopped");
        }
    }

    /** The console open for a domain, or null (for tests). */
    Console openConsole(String domain) {
        return open.get(domain);
    }

    /** Domains whose console is open (for diagnostics and tests). */
    List<String> openDomains() {
        return open.values().stream().filter(c -> !c.isEnded()).map(c -> c.domain).sorted().toList();
    }
}
