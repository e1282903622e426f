package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.ProcessIdentity;

import java.util.Optional;

/**
 * A pidfd pinned to one recorded process. Opening checks, after the pidfd exists, that /proc still
 * shows the recorded start time: if the pid had been recycled, the check fails and nothing is opened,
 * so a signal can never reach a stranger.
 */
final class Pidfd implements AutoCloseable {
    private final Posix posix;
    private final int fd;

    private Pidfd(Posix posix, int fd) {
        this.posix = posix;
        this.fd = fd;
    }

    /**
     * The pidfd of {@code recorded}, or empty if that process is gone (or its pid now belongs to another).
     *
     * @param allowZombie true to accept a process that is exiting or exited but unreaped, on its start time
     *                    alone (pid and start time cannot name two processes). Its cmdline cannot be checked:
     *                    while it exits (state still R, memory released) /proc shows an empty or truncated one
     *                    (measured: "/"), and refusing it would leave a child that died at once a zombie for good.
     */
    static Optional<Pidfd> open(Posix posix, ProcFs proc, ProcessIdentity recorded, boolean allowZombie) {
        int fd;
        try {
            fd = posix.pidfdOpen(recorded.pid());
        } catch (SysCallException e) {
            return Optional.empty(); // ESRCH: gone; anything else: we cannot reach it either
        }
        boolean same = proc.read(recorded.pid())
                .filter(s -> s.startTime() == recorded.startTime())
                .filter(s -> allowZombie || !s.zombie() && s.cmdline().equals(recorded.cmdline()))
                .isPresent();
        if (!same) {
            posix.close(fd);
            return Optional.empty();
        }
        return Optional.of(new Pidfd(posix, fd));
    }

    int fd() {
        return fd;
    }

    void signal(int signal) throws SysCallException {
        posix.pidfdSendSignal(fd, signal);
    }

    /** Waits (in the kernel, not by polling) until the process has exited; false on timeout. */
    boolean awaitExit(long timeoutMillis) throws SysCallException {
        return posix.pollIn(fd, (int) Math.min(Integer.MAX_VALUE, timeoutMillis));
    }

    boolean exited() throws SysCallException {
        return awaitExit(0);
    }

    @Override
    public void close() {
        posix.close(fd);
    }
}
