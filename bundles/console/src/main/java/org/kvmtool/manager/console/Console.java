package org.kvmtool.manager.console;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One open console: the slave descriptor, where its output goes (ring, log, subscribers) and who may
 * write. Output handling ({@link #received}, {@link #flush}, {@link #ended}) runs on the drain thread;
 * writes run on the caller's thread.
 */
final class Console {
    private static final System.Logger LOG = System.getLogger(Console.class.getName());

    final String domain;
    final String slavePath;
    final String logFile;
    final long id;
    private final Posix posix;
    private final SlaveFd slave;
    private final Owner owner; // null: no reference to the master; the end is then seen as a hangup
    private final Ring ring;
    private final long writeTimeoutNanos;
    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    private final AtomicReference<Attachment> writer = new AtomicReference<>();
    private final ReentrantLock writeLock = new ReentrantLock(); // one input at a time: no interleaving
    /** Held while output goes into the ring and to the readers, so that a new reader's history joins it exactly. */
    private final Object output = new Object();
    private ConsoleLog log; // drain thread only; null once it failed
    private int unflushed; // drain thread only: bytes received since the last flush()
    private volatile boolean ended;

    Console(String domain, String slavePath, String logFile, long id, Posix posix, SlaveFd slave, Owner owner,
            Ring ring, ConsoleLog log, long writeTimeoutMillis) {
        this.domain = domain;
        this.slavePath = slavePath;
        this.logFile = logFile;
        this.id = id;
        this.posix = posix;
        this.slave = slave;
        this.owner = owner;
        this.ring = ring;
        this.log = log;
        this.writeTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(writeTimeoutMillis);
    }

    int fd() {
        return slave.fd();
    }

    /** The owner's pidfd, or -1. */
    int ownerPidfd() {
        return owner == null ? -1 : owner.pidfd;
    }

    boolean isEnded() {
        return ended;
    }

    // ---- drain thread ----

    /** New output: into the ring now, into the log buffer and the readers' outboxes until {@link #flush()}. */
    void received(byte[] data) {
        unflushed += data.length;
        synchronized (output) {
            ring.append(data);
            for (Subscriber s : subscribers) {
                s.offer(data);
            }
        }
        if (log != null) {
            try {
                log.append(data);
            } catch (IOException e) {
                logFailed(e);
            }
        }
    }

    /** Writes the buffered log and hands the queued output to the readers (once per burst). */
    int unflushed() {
        return unflushed;
    }

    void flush() {
        unflushed = 0;
        if (log != null) {
            try {
                log.flush();
            } catch (IOException e) {
                logFailed(e);
            }
        }
        for (Subscriber s : subscribers) {
            s.publish();
        }
    }

    /** The console is over (lkvm's side is gone, or it was closed): tell everyone once, release the slave. */
    void ended() {
        ended = true;
        if (log != null) {
            try {
                log.close();
            } catch (IOException e) {
                logFailed(e);
            }
            log = null;
        }
        writer.set(null);
        for (Subscriber s : subscribers) {
            s.end();
        }
        subscribers.clear();
        if (owner != null) {
            owner.close(posix);
        }
        slave.close();
    }

    private void logFailed(IOException e) {
        // Keep draining: a full disk must not stall the guest. Ring and subscribers still get the output.
        LOG.log(System.Logger.Level.ERROR, "console log of '" + domain + "' failed; logging stopped for this run", e);
        try {
            log.close();
        } catch (IOException ignored) {
            // already failing
        }
        log = null;
    }

    // ---- any thread ----

    Subscriber subscribe(Subscriber s) {
        return subscribe(s, 0);
    }

    /**
     * Adds a reader whose first output is the last {@code historyBytes} of the ring: taken under the same lock
     * as the drain thread's appends, so the live output goes on exactly where the history stops.
     */
    Subscriber subscribe(Subscriber s, int historyBytes) {
        synchronized (output) {
            if (historyBytes > 0) {
                byte[] history = ring.tail(historyBytes);
                if (history.length > 0) {
                    s.offer(history);
                }
            }
            subscribers.add(s);
        }
        if (ended) { // lost the race with ended(): the subscriber is told, like the others
            subscribers.remove(s);
            s.end();
        } else {
            s.publish(); // the history now, not at the next output
        }
        return s;
    }

    /** A reader displaced by a forced takeover: removed, and told after the output already queued for it. */
    void displace(Subscriber s) {
        subscribers.remove(s);
        s.displace();
    }

    void unsubscribe(Subscriber s) {
        subscribers.remove(s);
        s.cancel();
    }

    /**
     * Takes the writer slot: refused while another session holds it, unless {@code force}, which detaches
     * that session and tells it, as libvirt aborts the stream of the console a forced open takes over.
     */
    void takeWriter(Attachment session, boolean force) {
        if (force) {
            Attachment previous = writer.getAndSet(session);
            if (previous != null && previous != session) {
                previous.displaced();
            }
        } else if (!writer.compareAndSet(null, session)) {
            throw inUse();
        }
        if (ended) {
            writer.compareAndSet(session, null);
            throw notOpen();
        }
    }

    boolean isWriter(Attachment session) {
        return !ended && writer.get() == session;
    }

    void releaseWriter(Attachment session) {
        writer.compareAndSet(session, null);
    }

    boolean hasWriter() {
        return writer.get() != null;
    }

    KvmtoolException inUse() {
        return new KvmtoolException(ErrorCode.OPERATION_INVALID,
                "console of '" + domain + "' is in use by another session");
    }

    KvmtoolException notOpen() {
        return new KvmtoolException(ErrorCode.OPERATION_INVALID, "console of '" + domain + "' is not open");
    }

    /**
     * Writes all of {@code data} to the guest. When the pty is full (the guest is not reading) it waits for
     * room in poll(), never spinning, and gives up after the write timeout.
     */
    void write(byte[] data) {
        int fd = slave.acquire();
        if (fd < 0) {
            throw notOpen();
        }
        try {
            long deadline = System.nanoTime() + writeTimeoutNanos;
            if (!writeLock.tryLock(writeTimeoutNanos, TimeUnit.NANOSECONDS)) {
                throw notReading(0, data.length); // another input is still waiting for the guest
            }
            try {
                writeAll(fd, data, deadline);
            } finally {
                writeLock.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvmtoolException(ErrorCode.OPERATION_FAILED, "console of '" + domain + "': interrupted", e);
        } finally {
            slave.release();
        }
    }

    private void writeAll(int fd, byte[] data, long deadline) {
        try {
            int off = 0;
            while (off < data.length) {
                int n = posix.write(fd, data, off, data.length - off);
                if (n > 0) {
                    off += n;
                    continue;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw notReading(off, data.length);
                }
                int waitMillis = (int) Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left) + 1);
                int revents = posix.poll(fd, Posix.POLLOUT, waitMillis);
                if ((revents & (Posix.POLLHUP | Posix.POLLERR)) != 0) {
                    throw hungUp(null);
                }
            }
        } catch (ErrnoException e) {
            if (e.errno() == Posix.EIO) {
                throw hungUp(e);
            }
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "console of '" + domain + "': " + e.getMessage(), e);
        }
    }

    private KvmtoolException notReading(int sent, int total) {
        return new KvmtoolException(ErrorCode.OPERATION_TIMEOUT, "console of '" + domain
                + "': the guest is not reading its input (" + sent + " of " + total + " bytes sent in "
                + TimeUnit.NANOSECONDS.toMillis(writeTimeoutNanos) + " ms)");
    }

    private KvmtoolException hungUp(Throwable cause) {
        return new KvmtoolException(ErrorCode.OPERATION_INVALID,
                "console of '" + domain + "' has ended (the hypervisor closed it)", cause);
    }
}
