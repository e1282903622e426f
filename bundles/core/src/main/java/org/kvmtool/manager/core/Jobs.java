package org.kvmtool.manager.core;

import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Runs an operation as the job of its domain: waits (bounded) for the slot, checks again that the domain is
 * still there after the wait, and at the end drops a transient domain that has ended.
 */
final class Jobs {
    /** Jobs that start lkvm: destroy may abort them. */
    static final Set<String> ABORTABLE = Set.of("start", "create", "reboot", "autostart", "exit");

    private final DomainRegistry registry;
    private final Duration timeout;

    Jobs(DomainRegistry registry, Duration timeout) {
        this.registry = registry;
        this.timeout = timeout;
    }

    void run(DomainObject d, String job, Runnable body) {
        call(d, job, () -> {
            body.run();
            return null;
        });
    }

    <T> T call(DomainObject d, String job, Supplier<T> body) {
        d.job.begin(job, timeout);
        try {
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
    }

    /** For a job whose slot was taken before the domain became visible (create). */
    <T> T continueHeld(DomainObject d, Supplier<T> body) {
        try {
            return body.get();
        } finally {
            try {
                registry.dropIfGone(d);
            } finally {
                d.job.end();
            }
        }
    }
}
