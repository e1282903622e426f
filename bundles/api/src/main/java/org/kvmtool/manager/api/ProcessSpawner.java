package org.kvmtool.manager.api;

import java.util.Optional;

/**
 * Starts lkvm processes (own session, scrubbed environment, no leaked descriptors, inside its cgroup
 * from its first instruction, unprivileged in system mode) and recognises them later.
 */
public interface ProcessSpawner {
    /**
     * Spawns and returns the identity of the new process. Fails with SYSTEM_ERROR naming what went wrong
     * (binary missing or not executable, exec failed, cgroup join refused).
     */
    ProcessIdentity spawn(SpawnRequest request);

    /** The identity of a live process, or empty when the pid does not exist. */
    Optional<ProcessIdentity> identify(long pid);

    /** True if the recorded process is alive and still the same process (pid, start time and cmdline). */
    boolean isAlive(ProcessIdentity recorded);

    /** Sends a signal to exactly that process (through a pidfd, so never to a recycled pid). */
    void signal(ProcessIdentity process, int signal);
}
