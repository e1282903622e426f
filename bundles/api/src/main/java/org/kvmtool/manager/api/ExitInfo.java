package org.kvmtool.manager.api;

/**
 * How an lkvm process ended, as the exit watcher saw it.
 *
 * @param kind        NORMAL: exit 0 and its socket removed (kvmtool's "KVM session ended normally");
 *                    SIGNALED: killed by {@code signal} (socket left behind, now cleaned);
 *                    FAILED: exited with {@code exitCode} != 0
 * @param exitCode    the exit status, or -1 when unknown (a process adopted after a restart is not our
 *                    child; its kind is then inferred from the socket it left)
 * @param signal      the signal number, or 0
 * @param ghostSocketRemoved true if the watcher removed the socket file the process left behind
 * @param nanoTime    System.nanoTime() when the kernel woke the watcher
 */
public record ExitInfo(ProcessIdentity process, Kind kind, int exitCode, int signal,
                       boolean ghostSocketRemoved, long nanoTime) {
    public enum Kind { NORMAL, SIGNALED, FAILED }
}
