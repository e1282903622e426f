package org.kvmtool.manager.console;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

import java.util.Optional;

/**
 * The lkvm behind a console, as a pidfd (readable when it exits) plus this process's own reference to
 * the pty master, taken from the lkvm with pidfd_getfd. Why: when the last master closes, the kernel
 * hangs the slave up and discards what it has not yet delivered, so the guest's last words (and lkvm's
 * "session ended" line) could be lost in a race with the drain thread. Holding a master reference, the
 * console drains to the end when the pidfd says lkvm is gone, and only then lets the pty go.
 */
final class Owner {
    private static final System.Logger LOG = System.getLogger(Owner.class.getName());
    final int pidfd;
    final int master;

    Owner(int pidfd, int master) {
        this.pidfd = pidfd;
        this.master = master;
    }

    /**
     * Verifies that {@code pid} holds the pty's master as its stdio (else SYSTEM_ERROR), and takes a
     * reference to that master. Without the rights for pidfd_getfd (another user's process without
     * CAP_SYS_PTRACE, Yama, seccomp) the console still works; only its end is then seen as a hangup.
     *
     * @return the owner, or null when no reference to the master could be had
     */
    static Owner take(Posix posix, PtyOwnership ownership, String what, String slavePath, long pid) {
        int pidfd;
        try {
            pidfd = posix.pidfdOpen(pid); // first: from here on, pid reuse cannot fool the checks below
        } catch (ErrnoException e) {
            pidfd = -1;
        }
        int master = -1;
        try {
            Optional<String> mismatch = ownership.mismatch(slavePath, pid);
            if (mismatch.isPresent()) {
                throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, what + mismatch.get());
            }
            if (pidfd >= 0) {
                master = posix.pidfdGetfd(pidfd, 0);
                Optional<String> ours = ownership.mismatchOfOwn(slavePath, master);
                if (ours.isPresent()) { // lkvm replaced its stdin in between: not worth holding
                    LOG.log(System.Logger.Level.WARNING, what + ours.get());
                    closeQuietly(posix, master);
                    master = -1;
                }
            }
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.INFO, what + "no reference to the pty master (" + e.getMessage()
                    + "): output written just before the hypervisor ends may be cut off");
        } catch (RuntimeException e) {
            closeQuietly(posix, pidfd);
            throw e;
        }
        if (master < 0) {
            closeQuietly(posix, pidfd);
            return null;
        }
        return new Owner(pidfd, master);
    }

    void close(Posix posix) {
        closeQuietly(posix, master);
        closeQuietly(posix, pidfd);
    }

    static void closeQuietly(Posix posix, int fd) {
        if (fd >= 0) {
            try {
                posix.close(fd);
            } catch (ErrnoException e) {
                // EBADF/EINTR: the descriptor is gone either way
            }
        }
    }
}
