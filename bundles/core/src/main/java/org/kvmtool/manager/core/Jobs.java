package org.kvmtool.manager.core;

import java.time.Duration;
import java.util.function.Supplier;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Runs an operation as the job of its domain: waits (bounded) for the slot, checks again that the domain is
 * still there after the wait, and at the end drops a transient domain that has ended.
 */
final class Jobs {
    private final DomainRegistry registry;
    private final Duration timeout;

    Jobs(DomainRegistry registry, Duration timeout) {
        this.registry = registry;
        this.timeout = timeout;
    }

    void run(DomainObject d, JobKind job, Runnable body) {
        call(d, job, () -> {
            body.run();
            return null;
        });
    }

    <T> T call(DomainObject d, JobKind job, Supplier<T> body) {
        enter();
        try {
            d.job.begin(job, timeout);
            try {
                requireOpen(); // waited for the slot while the driver began to stop
                if (d.isRemoved()) {
                    throw new KvmtoolException(ErrorCode.NO_DOMAIN, "domain '" + d.name + "' not found");
                }
                return body.get();
            } finally {
                try {
                    registry.dropIfGone(d);
                } finally {
                    d.job.end();
                }
            }
        } finally {
            leave();
        }
    }

    /** For a job whose slot was taken before the domain became visible (create). */
    <T> T continueHeld(DomainObject d, Supplier<T> body) {
        boolean entered = false;
        try {
            enter();
            entered = true;
            return body.get();
        } finally {
            try {
                registry.dropIfGone(d);
            } finally {
                d.job.end();
                if (entered) {
                    leave();
                }
            }
        }
    }

    // ---- the drain at deactivation ----

    private int running;
    private boolean closed;

    private synchronized void enter() {
        if (closed) {
            throw stopping();
        }
        running++;
    }

    private synchronized void leave() {
        if (--running == 0) {
            notifyAll();
        }
    }

    /** Refused as jobs are once closing; also for what acts before taking a job (destroy's abort of a start). */
    synchronized void requireOpen() {
        if (closed) {
            throw stopping();
        }
    }

    private static KvmtoolException stopping() {
        return new KvmtoolException(ErrorCode.OPERATION_INVALID, "the manager is stopping (bundle update, refresh or shutdown)");
    }

    /**
     * Refuses new jobs and waits up to {@code wait} for the running ones. A start still running when the
     * next driver reads the status files could record its lkvm after that reading, and no driver would own it.
     * Every job is bounded (THREADING.md), so the wait ends; returns how many were still running.
     */
    synchronized int close(Duration wait) {
        closed = true;
        long deadline = System.nanoTime() + wait.toNanos();
        while (running > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return running;
    }
}
