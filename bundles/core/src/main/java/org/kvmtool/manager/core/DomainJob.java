package org.kvmtool.manager.core;

import java.time.Clock;
import java.time.Duration;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * The one job slot of a domain (libvirt's "state change lock"): one operation at a time; others wait up
 * to a bound and then fail saying which job holds the domain. Not reentrant. A job may be aborted (by
 * destroy): {@link #checkAborted()} fails from then on. Its thread is not interrupted: an interrupt closes any
 * NIO channel the job has open (its status write would fail); destroy ends the lkvm the job waits on instead.
 */
final class DomainJob {
    private final String domain;
    private final Clock clock;
    private JobKind holder;
    private Thread owner;
    private long sinceMillis;
    private boolean aborted;

    DomainJob(String domain, Clock clock) {
        this.domain = domain;
        this.clock = clock;
    }

    synchronized void begin(JobKind job, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            while (holder != null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    long held = (clock.millis() - sinceMillis) / 1000;
                    throw new KvmtoolException(ErrorCode.OPERATION_TIMEOUT, "timed out waiting for domain '" + domain
                            + "': job '" + holder.word() + "' holds it (for " + held + " s)");
                }
                try {
                    wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    interrupted = true;
                    throw new KvmtoolException(ErrorCode.OPERATION_FAILED,
                            "interrupted while waiting for domain '" + domain + "' (job '" + holder.word() + "')", e);
                }
            }
            holder = job;
            owner = Thread.currentThread();
            sinceMillis = clock.millis();
            aborted = false;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Ends the job of the calling thread; clears an interrupt that an abort may have left. */
    synchronized void end() {
        if (owner != Thread.currentThread()) {
            throw new IllegalStateException("job '" + (holder == null ? "none" : holder.word()) + "' of " + domain + " ended by a thread that does not hold it");
        }
        holder = null;
        owner = null;
        aborted = false;
        notifyAll();
    }

    synchronized JobKind holder() {
        return holder;
    }

    /** Aborts the current job if it is {@code job} (destroy getting through a stuck start). */
    synchronized boolean abortIf(JobKind job) {
        if (holder == job && owner != Thread.currentThread()) {
            aborted = true;
            return true;
        }
        return false;
    }

    synchronized boolean isAborted() {
        return aborted;
    }

    void checkAborted() {
        if (isAborted()) {
            throw new KvmtoolException(ErrorCode.OPERATION_FAILED, "start of domain '" + domain + "' aborted by destroy");
        }
    }
}
