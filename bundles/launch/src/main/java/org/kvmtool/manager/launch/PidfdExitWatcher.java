package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.ExitInfo;
import org.kvmtool.manager.api.ExitWatcher;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ProcessIdentity;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One thread for every watched process: each process is a pidfd in one epoll set, so the kernel wakes
 * the thread when a process ends; an eventfd wakes it for deregistration and shutdown. Nothing polls.
 *
 * <p>All pidfds are closed on the watcher thread only, so a pidfd number is never reused under a
 * waitid in flight. Closing the component stops the thread and never touches the processes.
 */
// immediate: a delayed component is disposed with its last user, so an update of the driver would rebuild it
// (and a console service would drop every console's ring and reopen its pty); infrastructure outlives the driver
@Component(service = ExitWatcher.class, immediate = true)
public final class PidfdExitWatcher implements ExitWatcher, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PidfdExitWatcher.class.getName());
    private static final long WAKE_KEY = 0;
    private static final int WATCHER_NICE = -10;

    private final Posix posix;
    private final ProcFs proc;
    private final int epfd;
    private final int wakefd;
    private final Map<Long, Watch> watches = new ConcurrentHashMap<>();
    /** Work for the watcher thread: watches to report at once, or cancelled ones to drop. */
    private final Queue<Watch> pending = new ConcurrentLinkedQueue<>();
    private final AtomicLong keys = new AtomicLong(WAKE_KEY);
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    @Activate
    public PidfdExitWatcher() {
        this(Path.of("/proc"));
    }

    PidfdExitWatcher(Path procRoot) {
        this.posix = new Posix();
        this.proc = new ProcFs(procRoot);
        try {
            this.epfd = posix.epollCreate();
            this.wakefd = posix.eventfd();
            posix.epollAdd(epfd, wakefd, WAKE_KEY);
        } catch (SysCallException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot start the exit watcher: " + e.getMessage(), e);
        }
        this.thread = new Thread(this::run, "kvmtool-exit-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    private final class Watch implements AutoCloseable {
        final long key = keys.incrementAndGet();
        final ProcessIdentity process;
        final Path socket;
        final ExitListener listener;
        final AtomicBoolean done = new AtomicBoolean();
        volatile Pidfd pidfd; // null when the process was gone at registration

        Watch(ProcessIdentity process, Path socket, ExitListener listener) {
            this.process = process;
            this.socket = socket;
            this.listener = listener;
        }

        @Override
        public void close() {
            if (done.compareAndSet(false, true)) {
                pending.add(this);
                wake();
            }
        }
    }

    @Override
    public AutoCloseable watch(ProcessIdentity process, String socketPath, ExitListener listener) {
        if (!running.get()) {
            throw new KvmtoolException(ErrorCode.INTERNAL_ERROR, "the exit watcher is closed");
        }
        Watch w = new Watch(process, Path.of(socketPath), listener);
        // An exited child that is not yet reaped still has its pidfd: its status is then read at once.
        w.pidfd = Pidfd.open(posix, proc, process, true).orElse(null);
        if (w.pidfd == null) {
            pending.add(w);
            wake();
            return w;
        }
        watches.put(w.key, w);
        try {
            posix.epollAdd(epfd, w.pidfd.fd(), w.key);
        } catch (SysCallException e) {
            watches.remove(w.key);
            w.pidfd.close();
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot watch process " + process.pid() + ": "
                    + e.getMessage(), e);
        }
        return w;
    }

    private void wake() {
        try {
            posix.eventfdSignal(wakefd);
        } catch (SysCallException e) {
            LOG.log(Level.SEVERE, "cannot wake the exit watcher", e);
        }
    }

    private void run() {
        try {
            // Mostly asleep, but when a process ends it should run at once even on a busy host.
            posix.niceCurrentThread(WATCHER_NICE);
        } catch (SysCallException e) {
            LOG.log(Level.FINE, "the exit watcher keeps the default priority (not root?)", e);
        }
        long[] ready = new long[64];
        while (running.get()) {
            int n;
            try {
                n = posix.epollWait(epfd, ready, -1);
            } catch (SysCallException e) {
                LOG.log(Level.SEVERE, "exit watcher stopped", e);
                return;
            }
            long now = System.nanoTime();
            for (int i = 0; i < n; i++) {
                if (ready[i] == WAKE_KEY) {
                    posix.eventfdDrain(wakefd);
                } else {
                    Watch w = watches.get(ready[i]);
                    if (w != null) {
                        ended(w, now);
                    }
                }
            }
            for (Watch w; (w = pending.poll()) != null; ) {
                if (w.pidfd == null) {
                    // gone before it could be watched: not reapable by us, so the socket tells
                    if (w.done.compareAndSet(false, true)) {
                        report(w, ExitCause.ofAdopted(Files.exists(w.socket)), System.nanoTime());
                    }
                } else {
                    forget(w); // cancelled by its handle
                }
            }
        }
    }

    /** The kernel says the process ended: reap it if it is our child, else infer the cause. */
    private void ended(Watch w, long now) {
        ExitCause cause;
        try {
            Posix.ChildExit exit = posix.waitPidfd(w.pidfd.fd());
            if (exit == null) {
                return; // spurious: still running
            }
            cause = ExitCause.ofChild(exit.exited(), exit.status());
        } catch (SysCallException e) {
            if (e.errno() != Posix.ECHILD) {
                LOG.log(Level.WARNING, "waitid failed for pid " + w.process.pid(), e);
            }
            cause = ExitCause.ofAdopted(Files.exists(w.socket));
        }
        forget(w);
        if (w.done.compareAndSet(false, true)) {
            report(w, cause, now);
        }
    }

    private void forget(Watch w) {
        if (watches.remove(w.key) != null) {
            try {
                posix.epollDelete(epfd, w.pidfd.fd());
            } catch (SysCallException e) {
                LOG.log(Level.FINE, "epoll_ctl DEL", e);
            }
            w.pidfd.close();
        }
    }

    private void report(Watch w, ExitCause cause, long now) {
        boolean removed = false;
        try {
            removed = Files.deleteIfExists(w.socket);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot remove the ghost socket " + w.socket, e);
        }
        try {
            w.listener.exited(new ExitInfo(w.process, cause.kind(), cause.exitCode(), cause.signal(), removed, now));
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "exit listener failed for pid " + w.process.pid(), e);
        }
    }

    @Deactivate
    @Override
    public void close() {
        if (!running.compareAndSet(true, false)) {
            return;
        }
        wake();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        watches.values().forEach(w -> w.pidfd.close());
        watches.clear();
        posix.close(wakefd);
        posix.close(epfd);
    }
}
