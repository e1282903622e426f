package org.kvmtool.manager.console;

import com.sun.jna.Library;
import com.sun.jna.NativeLong;

import java.nio.ByteBuffer;

/**
 * The libc calls this bundle makes, and the only place JNA maps them. Only {@link Posix} calls it: structs
 * travel as byte arrays (no Pointer), and errno is read there, in one place.
 */
interface LibC extends Library {
    int posix_openpt(int flags);

    int grantpt(int fd);

    int unlockpt(int fd);

    /** Returns 0 or an error number (not -1/errno). */
    int ptsname_r(int fd, byte[] buf, NativeLong buflen);

    int open(String path, int flags);

    int close(int fd);

    /** {@code buf} is a direct buffer: the kernel writes straight into it, no copy. */
    NativeLong read(int fd, ByteBuffer buf, NativeLong count);

    NativeLong write(int fd, byte[] buf, NativeLong count);

    int tcgetattr(int fd, byte[] termios);

    int tcsetattr(int fd, int optionalActions, byte[] termios);

    void cfmakeraw(byte[] termios);

    int epoll_create1(int flags);

    int epoll_ctl(int epfd, int op, int fd, byte[] event);

    int epoll_wait(int epfd, byte[] events, int maxevents, int timeout);

    int eventfd(int initval, int flags);

    int poll(byte[] fds, NativeLong nfds, int timeout);

    /** pidfd_open and pidfd_getfd have no glibc 2.36 wrappers. */
    NativeLong syscall(NativeLong number, NativeLong arg1, NativeLong arg2, NativeLong arg3);

    String strerror(int errnum);
}
