package org.kvmtool.manager.launch;

import java.io.IOException;

/** A failed system call: the call (with its arguments) and errno. Thrown only by {@link Posix}. */
final class SysCallException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    SysCallException(String call, int errno, String errnoText) {
        super(call + ": " + errnoText + " (errno " + errno + ")");
        this.errno = errno;
    }

    int errno() {
        return errno;
    }
}
