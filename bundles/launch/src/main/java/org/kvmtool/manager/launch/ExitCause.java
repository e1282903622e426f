package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.ExitInfo;

/**
 * How a process ended, decided from what the watcher could learn. Pure.
 *
 * <p>For our own child, waitid gives the status. A process adopted after a restart is not our child:
 * kvmtool removes its socket only on a normal end, so a socket that is gone means NORMAL and a socket
 * left behind means it died by a signal (which one is unknown: 0).
 */
record ExitCause(ExitInfo.Kind kind, int exitCode, int signal) {
    static ExitCause ofChild(boolean exited, int status) {
        if (!exited) {
            return new ExitCause(ExitInfo.Kind.SIGNALED, -1, status);
        }
        return new ExitCause(status == 0 ? ExitInfo.Kind.NORMAL : ExitInfo.Kind.FAILED, status, 0);
    }

    static ExitCause ofAdopted(boolean socketLeft) {
        return socketLeft ? new ExitCause(ExitInfo.Kind.SIGNALED, -1, 0) : new ExitCause(ExitInfo.Kind.NORMAL, -1, 0);
    }
}
