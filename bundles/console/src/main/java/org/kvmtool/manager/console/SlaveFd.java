package org.kvmtool.manager.console;

/**
 * The descriptor of an open slave, closed only once nobody uses it: a writer may be in write() or poll()
 * on it when the drain thread ends the console, and a descriptor number must never be closed under a
 * caller (the kernel would hand the number to the next open, and the write would go there).
 */
final class SlaveFd {
    private final Posix posix;
    private final int fd;
    private int users = 1; // the console itself
    private boolean closing;

    SlaveFd(Posix posix, int fd) {
        this.posix = posix;
        this.fd = fd;
    }

    /** The drain thread's own use: valid until {@link #close()}, which the drain thread itself calls. */
    int fd() {
        return fd;
    }

    /** @return the descriptor, valid until {@link #release()}; -1 if the console has ended */
    synchronized int acquire() {
        if (closing) {
            return -1;
        }
        users++;
        return fd;
    }

    void release() {
        boolean last;
        synchronized (this) {
            last = --users == 0;
        }
        if (last) {
            closeQuietly();
        }
    }

    /** The console ended: closes now, or when the last writer releases. Idempotent. */
    void close() {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
        }
        release();
    }

    private void closeQuietly() {
        try {
            posix.close(fd);
        } catch (ErrnoException e) {
            // close() of a tty fails only with EBADF or EINTR, and the descriptor is gone either way
        }
    }
}
