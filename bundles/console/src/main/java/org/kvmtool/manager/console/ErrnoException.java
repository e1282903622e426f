package org.kvmtool.manager.console;

import java.io.IOException;

/** A failed libc call: which call, and errno. */
final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    ErrnoException(String call, int errno, String description) {
        super(call + ": " + description + " (errno " + errno + ")");
        this.errno = errno;
    }

    int errno() {
        return errno;
    }
}
