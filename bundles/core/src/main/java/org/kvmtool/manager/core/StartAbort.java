package org.kvmtool.manager.core;

import java.util.logging.Logger;

import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ProcessSpawner;

/**
 * Destroy's way through a stuck start (libvirt's BeginStopJob): rather than queue behind a job that starts
 * lkvm, mark that job aborted and kill its lkvm, without the job. Whatever the start waits on (the socket, the
 * process) then fails at once and its rollback runs; destroy takes the job after it. The start's thread is
 * not interrupted: an interrupt would close its NIO channels, failing its own status write (THREADING.md).
 */
final class StartAbort {
    private static final Logger LOG = Logger.getLogger(StartAbort.class.getName());
    private final ProcessSpawner spawner;

    StartAbort(ProcessSpawner spawner) {
        this.spawner = spawner;
    }

    /** True if {@code d}'s job was one that starts lkvm and is now aborted (its lkvm, if spawned, killed). */
    boolean abortStart(DomainObject d) {
        JobKind holder = d.job.holder();
        if (holder == null || !holder.abortable() || !d.job.abortIf(holder)) {
            return false;
        }
        DomainRun run = d.run();
        if (run != null && run.process != null) {
            try {
                spawner.signal(run.process, 9);
            } catch (KvmtoolException e) {
                LOG.fine(() -> d.name + ": kill during abort: " + e.getMessage());
            }
        }
        return true;
    }
}
