package org.kvmtool.manager.console;

/**
 * The lkvm behind a console, as a pidfd (readable when it exits) plus this process's own reference to
 * the pty master, taken from the lkvm with pidfd_getfd. Why: when the last master closes, the kernel
 * hangs the slave up and discards what it has not yet delivered, so the guest's last words (and lkvm's
 * "session ended" line) could be lost in a race with the drain thread. Holding a master reference, the
 * console drains to the end when the pidfd says lkvm is gone, and only then lets the pty go.
 */
final class Owner {
    final int pidfd;
    final int master;

    Owner(int pidfd, int master) {
        this.pidfd = pidfd;
        this.master = master;
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
