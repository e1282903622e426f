package org.kvmtool.manager.console;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The one thread that reads every console, attached or not: epoll over all slaves plus an eventfd that
 * wakes it for commands. The watched set and epoll registrations change only on this thread (commands
 * run there), so a descriptor is never closed while it reads it. Per wake-up it reads each ready console
 * while its reads come back full (a pty read returns at most n_tty's 4 KiB), at most
 * {@value #FULL_READS_PER_ROUND} times: fair between consoles, and no extra call just to learn that a pty
 * is empty (epoll is level-triggered: what is left is reported again). Each libc call through JNA costs
 * microseconds, so the calls per KiB are what the drain's CPU is made of.
 *
 * <p>Output is flushed (log written, readers' outboxes handed to a delivery thread) every 64 KiB, once
 * no console has had anything for {@value #LINGER_MILLIS} ms, and at least every {@value #LINGER_MILLIS}
 * ms. The ring (tail) is current at once. Logs are written on this thread, through a 64 KiB
 * buffer per console. A write into the page cache costs microseconds, keeps the log
 * in exact stream order with no second queue to bound, and if the disk ever stalls the guests' output
 * waits in their pty buffers (the kernel's flow control), so even then nothing is lost. Listeners are
 * never called here.
 */
final class Drainer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Drainer.class.getName());
    private static final long WAKE = 0; // epoll data of the eventfd; consoles have ids from 1
    private static final long OWNER_EXITED = 1L << 62; // flag in the epoll data of a console's owner pidfd
    private static final int PTY_READ_MAX = 4096; // N_TTY_BUF_SIZE: a full read means more may be waiting
    private static final int FULL_READS_PER_ROUND = 16;
    private static final int COMMAND_TIMEOUT_SECONDS = 30;
    private static final int FLUSH_BYTES = 64 * 1024;
    /** How long output may wait for more before it is flushed: invisible to a human, and under a flood
     * it turns a log write and a thread wake-up per 4 KiB pty read into one per 64 KiB. */
    private static final int LINGER_MILLIS = 1;
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS);

    private final Posix posix;
    private final Consumer<Console> onEnded;
    private final int epfd;
    private final int wakeFd;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final Map<Long, Console> watched = new HashMap<>(); // drain thread only
    private final Set<Console> unflushed = new LinkedHashSet<>(); // buffered output not yet in log and outboxes
    private final ByteBuffer buf = ByteBuffer.allocateDirect(16 * 1024);
    private long lastFlush; // drain thread only
    private volatile boolean running = true;

    /** @param onEnded told (on the drain thread) when a console ended, after its listeners were told */
    Drainer(Posix posix, Consumer<Console> onEnded) throws ErrnoException {
        this.posix = posix;
        this.onEnded = onEnded;
        this.epfd = posix.epollCreate();
        try {
            this.wakeFd = posix.eventfd();
            posix.epollAdd(epfd, wakeFd, Posix.EPOLLIN, WAKE);
        } catch (ErrnoException e) {
            posix.close(epfd);
            throw e;
        }
        this.thread = new Thread(this::run, "kvmtool-console-drain");
        thread.setDaemon(true);
        thread.start();
    }

    long threadId() {
        return thread.getId();
    }

    /** Starts watching a console (returns once it is registered). */
    void watch(Console c) {
        call(() -> {
            try {
                posix.epollAdd(epfd, c.fd(), Posix.EPOLLIN, c.id);
                if (c.ownerPidfd() >= 0) {
                    try {
                        posix.epollAdd(epfd, c.ownerPidfd(), Posix.EPOLLIN, c.id | OWNER_EXITED);
                    } catch (ErrnoException e) {
                        posix.epollDelete(epfd, c.fd());
                        throw e;
                    }
                }
            } catch (ErrnoException e) {
                throw new KvmtoolException(ErrorCode.SYSTEM_ERROR,
                        "console of '" + c.domain + "': " + e.getMessage(), e);
            }
            watched.put(c.id, c);
        });
    }

    /** Stops watching and ends a console (returns once done). Idempotent. */
    void end(Console c) {
        call(() -> finish(c));
    }

    /** Runs {@code command} on the drain thread and waits for it. */
    private void call(Runnable command) {
        if (Thread.currentThread() == thread || !running) {
            command.run();
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        commands.add(() -> {
            try {
                command.run();
                done.complete(null);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        try {
            posix.eventfdSignal(wakeFd);
            done.get(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS); // bounded: never hang a caller on a dead thread
        } catch (TimeoutException e) {
            throw new KvmtoolException(ErrorCode.INTERNAL_ERROR, "the console thread does not respond", e);
        } catch (ErrnoException e) {
            throw new KvmtoolException(ErrorCode.INTERNAL_ERROR, "cannot wake the console thread", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvmtoolException(ErrorCode.INTERNAL_ERROR, "interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r
                    : new KvmtoolException(ErrorCode.INTERNAL_ERROR, "console thread failed", e.getCause());
        }
    }

    private void run() {
        Posix.Events events = posix.newEvents(64);
        while (running) {
            int n;
            try {
                n = posix.epollWait(epfd, events, unflushed.isEmpty() ? -1 : LINGER_MILLIS);
            } catch (ErrnoException e) { // EBADF/EINVAL: a bug, not a condition to retry
                LOG.log(System.Logger.Level.ERROR, "console thread stopped", e);
                running = false;
                break;
            }
            for (int i = 0; i < n; i++) {
                long id = events.data(i);
                if (id == WAKE) {
                    runCommands();
                } else if ((id & OWNER_EXITED) != 0) {
                    Console c = watched.get(id & ~OWNER_EXITED);
                    if (c != null) { // lkvm is gone but we hold the master: everything it wrote is still there
                        pump(c, 0, true);
                        finish(c);
                    }
                } else {
                    Console c = watched.get(id);
                    if (c != null) {
                        pump(c, events.events(i), false);
                    }
                }
            }
            // Quiet for a moment, or a linger has passed (one console's flood must not hold back another's
            // trickle): logs and readers catch up.
            long now = System.nanoTime();
            if (n == 0 || now - lastFlush >= LINGER_NANOS) {
                for (Console c : unflushed) {
                    c.flush();
                }
                unflushed.clear();
                lastFlush = now;
            }
        }
        runCommands(); // whoever still waits gets an answer
    }

    private void runCommands() {
        try {
            posix.eventfdClear(wakeFd, buf);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "console thread eventfd", e);
        }
        Runnable command;
        while ((command = commands.poll()) != null) {
            command.run();
        }
    }

    /** Reads what a ready console has: a round's worth, or all of it ({@code untilEmpty}). */
    private void pump(Console c, int readyEvents, boolean untilEmpty) {
        try {
            for (int reads = 1; ; reads++) {
                int n = posix.read(c.fd(), buf);
                if (n > 0) {
                    byte[] data = new byte[n];
                    buf.get(data);
                    c.received(data);
                    if (c.unflushed() >= FLUSH_BYTES) { // a flood: readers need not wait for its end
                        c.flush();
                        unflushed.remove(c);
                    } else {
                        unflushed.add(c);
                    }
                    if (!untilEmpty && (n < PTY_READ_MAX || reads == FULL_READS_PER_ROUND)) {
                        return;
                    }
                } else if (n == 0 || (readyEvents & (Posix.EPOLLHUP | Posix.EPOLLERR)) != 0) {
                    finish(c); // end of file, or hung up with nothing left: lkvm's side is gone
                    return;
                } else {
                    return; // EAGAIN: all read
                }
            }
        } catch (ErrnoException e) {
            if (e.errno() != Posix.EIO) { // EIO is how a pty slave says its master is gone
                LOG.log(System.Logger.Level.WARNING, "console of '" + c.domain + "': " + e.getMessage(), e);
            }
            finish(c);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "console of '" + c.domain + "' failed", e);
            finish(c);
        }
    }

    private void finish(Console c) {
        if (watched.remove(c.id) == null) {
            return;
        }
        unflushed.remove(c); // ended() flushes and closes its log
        try {
            posix.epollDelete(epfd, c.fd());
            if (c.ownerPidfd() >= 0) {
                posix.epollDelete(epfd, c.ownerPidfd());
            }
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "console of '" + c.domain + "': " + e.getMessage(), e);
        }
        c.ended();
        onEnded.accept(c);
    }

    /** Ends every console, then stops the thread. */
    @Override
    public void close() {
        call(() -> {
            for (Console c : List.copyOf(watched.values())) {
                finish(c);
            }
            running = false;
        });
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            posix.close(wakeFd);
            posix.close(epfd);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "console thread close", e);
        }
    }
}
