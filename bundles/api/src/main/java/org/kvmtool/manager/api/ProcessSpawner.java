package org.kvmtool.manager.api;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Starts lkvm processes (own session, scrubbed environment, no leaked descriptors, inside its cgroup
 * from its first instruction, unprivileged in system mode) and recognises them later.
 */
public interface ProcessSpawner {
    /**
     * Spawns and returns the identity of the new process. Fails with SYSTEM_ERROR naming what went wrong
     * (binary missing or not executable, exec failed, cgroup join refused).
     */
    default ProcessIdentity spawn(SpawnRequest request) {
        return spawn(request, toBe -> { });
    }

    /**
     * As {@link #spawn(SpawnRequest)}, with {@code beforeExec} called with the identity the process will have
     * (pid, start time, the request's argv) while it is held just before exec: what it records (a status
     * file) exists before the program runs. If it throws, the program never runs and its exception is thrown.
     * If the caller's process dies during it, the held process ends without running the program, so no
     * process is ever left that nobody recorded.
     */
    ProcessIdentity spawn(SpawnRequest request, Consumer<ProcessIdentity> beforeExec);

    /** The identity of a live process, or empty when the pid does not exist. */
    Optional<ProcessIdentity> identify(long pid);

    /** True if the recorded process is alive and still the same process (pid, start time and cmdline). */
    boolean isAlive(ProcessIdentity recorded);

    /**
     * Waits up to {@code timeout} for the recorded process to end; true if it has (or was not there). This
     * default looks every 5 ms; an implementation that can wait in the kernel (a pidfd) should.
     */
    default boolean awaitExit(ProcessIdentity recorded, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (isAlive(recorded)) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Sends a signal to exactly that process (through a pidfd, so never to a recycled pid). */
    void signal(ProcessIdentity process, int signal);
}
