package org.kvmtool.manager.core;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.ExitInfo;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.StateReason;

/**
 * What happens without a caller: an lkvm that ended (on_poweroff/on_crash), a shutdown that ran out of
 * time, autostart. The exit watcher's thread only hands the news over; the work runs on a worker, as a job
 * of the domain, and first checks that the run that ended is still the domain's run (a destroy or reboot
 * may have handled it already).
 */
final class Supervisor implements DomainProcess.ExitSink, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Supervisor.class.getName());
    private final AtomicInteger threads = new AtomicInteger();
    /** Cached, with one thread always ready: the news of an exit should not wait for a thread to be made. */
    private final ThreadPoolExecutor workers = new ThreadPoolExecutor(1, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
            new SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "kvmtool-supervisor-" + threads.incrementAndGet());
                t.setDaemon(true);
                return t;
            });

    Supervisor() {
        workers.prestartCoreThread();
    }
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kvmtool-timers");
        t.setDaemon(true);
        return t;
    });
    private volatile DomainProcess process;
    private volatile Jobs jobs;
    private volatile boolean closed;

    void wire(DomainProcess process, Jobs jobs) {
        this.process = process;
        this.jobs = jobs;
    }

    @Override
    public void exited(DomainObject d, DomainRun run, ExitInfo info) {
        submit(() -> {
            // wait as long as it takes: every job is bounded, and this news must not be lost
            while (!closed) {
                try {
                    jobs.run(d, JobKind.EXIT, () -> handleExit(d, run, info));
                    return;
                } catch (KvmtoolException e) {
                    if (d.run() != run || d.isRemoved()) {
                        return;
                    }
                    if (e.code() != ErrorCode.OPERATION_TIMEOUT) {
                        LOG.log(Level.WARNING, d.name + ": handling the end of lkvm failed: " + e.getMessage(), e);
                        return;
                    }
                }
            }
        });
    }

    private void handleExit(DomainObject d, DomainRun run, ExitInfo info) {
        if (d.run() != run) {
            return; // already handled by whoever ended it (destroy, reboot, a failed start)
        }
        LifecyclePolicy.Decision decision = LifecyclePolicy.onExit(info.kind(), run.stopRequested, d.state(), run.definition);
        LOG.info(() -> d.name + ": lkvm " + info.process().pid() + " ended (" + info.kind() + ", exit " + info.exitCode()
                + ", signal " + info.signal() + "): " + decision.reason().word() + (decision.restart() ? ", restarting" : ""));
        process.stop(d, decision.reason(), false);
        if (decision.restart()) {
            DomainDefinition next = d.isPersistent() ? d.persistentDefinition() : run.definition;
            try {
                process.start(d, next, false);
            } catch (KvmtoolException e) {
                LOG.log(Level.WARNING, d.name + ": restart failed: " + e.getMessage(), e);
            }
        }
    }

    /** After {@code timeout}, destroys the domain if that run is still shutting down. */
    void armShutdownTimer(DomainObject d, DomainRun run, Duration timeout) {
        if (run.shutdownTimer != null) {
            return;
        }
        try {
            run.shutdownTimer = timers.schedule(() -> submit(() -> {
                try {
                    jobs.run(d, JobKind.SHUTDOWN_TIMEOUT, () -> {
                        if (d.run() == run && d.state() == DomainState.SHUTDOWN) {
                            LOG.info(() -> d.name + ": did not shut down within " + timeout.toSeconds() + " s: destroying");
                            run.stopRequested = true;
                            process.stop(d, StateReason.DESTROYED, true);
                        }
                    });
                } catch (KvmtoolException e) {
                    LOG.log(Level.WARNING, d.name + ": shutdown timeout not handled: " + e.getMessage(), e);
                }
            }), timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // deactivating: the next activation re-arms it
        }
    }

    /** Starts an autostart domain in the background (activation must not wait for guests). */
    void autostart(DomainObject d) {
        submit(() -> {
            try {
                jobs.run(d, JobKind.AUTOSTART, () -> {
                    if (!d.state().isActive() && d.isPersistent() && d.autostart()) {
                        process.start(d, d.persistentDefinition(), false);
                    }
                });
            } catch (KvmtoolException e) {
                LOG.log(Level.WARNING, d.name + ": autostart failed: " + e.getMessage(), e);
            }
        });
    }

    private void submit(Runnable r) {
        try {
            workers.execute(r);
        } catch (RejectedExecutionException e) {
            LOG.fine("supervisor closed: task dropped");
        }
    }

    @Override
    public void close() {
        closed = true;
        timers.shutdownNow();
        workers.shutdown();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.shutdownNow();
    }
}
