package org.kvmtool.manager.console;

import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The POSIX calls of this bundle with Java types only. Every failure becomes an {@link ErrnoException}
 * naming the call, here and nowhere else. The only other user of JNA is {@link LibC}, which only this
 * class touches.
 */
final class Posix {
    // Linux's generic values: x86-64 and arm64 agree on all of these.
    static final int O_RDWR = 0x2;
    static final int O_NOCTTY = 0x100;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int EPOLLIN = 0x1;
    static final int EPOLLERR = 0x8;
    static final int EPOLLHUP = 0x10;
    static final int POLLOUT = 0x4;
    static final int POLLERR = 0x8;
    static final int POLLHUP = 0x10;
    static final int EINTR = 4;
    static final int EIO = 5;
    static final int EAGAIN = 11;

    private static final int TCSANOW = 0;
    // Unified syscall numbers: the same on x86-64 and the generic table (arm64, riscv64).
    private static final int SYS_PIDFD_OPEN = 434;
    private static final int SYS_PIDFD_GETFD = 438;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    /** Larger than struct termios on every glibc target (60 bytes on x86-64 and arm64). */
    private static final int TERMIOS_BYTES = 256;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private final LibC libc;
    /** struct epoll_event is packed (12 bytes) on x86-64 only; elsewhere its u64 is 8-aligned (16 bytes). */
    private final int eventBytes;
    private final int eventDataOffset;

    Posix() {
        this.libc = Native.load("c", LibC.class);
        boolean packed = Platform.isIntel() && Platform.is64Bit();
        this.eventBytes = packed ? 12 : 16;
        this.eventDataOffset = packed ? 4 : 8;
    }

    private ErrnoException failure(String call, int errno) {
        String text = libc.strerror(errno);
        return new ErrnoException(call, errno, text == null ? "unknown error" : text);
    }

    private int check(String call, int rc) throws ErrnoException {
        if (rc == -1) {
            throw failure(call, Native.getLastError());
        }
        return rc;
    }

    /** A new pty master (posix_openpt, grantpt, unlockpt), its slave in raw mode from birth. */
    int openPtyMaster() throws ErrnoException {
        int fd = check("posix_openpt", libc.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
        try {
            check("grantpt", libc.grantpt(fd));
            check("unlockpt", libc.unlockpt(fd));
            // Termios requests on a master act on its slave. Raw from birth, so the slave never echoes
            // the guest's output back into its input while nobody holds it open.
            makeRaw(fd);
            return fd;
        } catch (ErrnoException e) {
            libc.close(fd);
            throw e;
        }
    }

    String ptsName(int masterFd) throws ErrnoException {
        byte[] buf = new byte[128];
        int err = libc.ptsname_r(masterFd, buf, new NativeLong(buf.length));
        if (err != 0) {
            throw failure("ptsname_r", err);
        }
        int len = 0;
        while (len < buf.length && buf[len] != 0) {
            len++;
        }
        return new String(buf, 0, len, StandardCharsets.UTF_8);
    }

    int open(String path, int flags) throws ErrnoException {
        return check("open(" + path + ")", libc.open(path, flags));
    }

    void close(int fd) throws ErrnoException {
        check("close", libc.close(fd));
    }

    /** Raw mode with TCSANOW: TCSAFLUSH would discard what the guest wrote while nobody read it. */
    void makeRaw(int fd) throws ErrnoException {
        byte[] termios = new byte[TERMIOS_BYTES];
        check("tcgetattr", libc.tcgetattr(fd, termios));
        libc.cfmakeraw(termios);
        check("tcsetattr", libc.tcsetattr(fd, TCSANOW, termios));
    }

    /**
     * Reads into a direct buffer, which is then flipped (position 0, limit = bytes read).
     *
     * @return bytes read, 0 at end of file, -1 if a non-blocking descriptor has nothing now (EAGAIN)
     */
    int read(int fd, ByteBuffer direct) throws ErrnoException {
        while (true) {
            direct.clear();
            int n = (int) libc.read(fd, direct, new NativeLong(direct.capacity())).longValue();
            if (n >= 0) {
                direct.limit(n);
                return n;
            }
            int errno = Native.getLastError();
            if (errno == EAGAIN) {
                direct.limit(0);
                return -1;
            }
            if (errno != EINTR) {
                throw failure("read", errno);
            }
        }
    }

    /** @return bytes written, or -1 if a non-blocking descriptor cannot take any now (EAGAIN) */
    int write(int fd, byte[] data, int off, int len) throws ErrnoException {
        byte[] chunk = off == 0 && len == data.length ? data : Arrays.copyOfRange(data, off, off + len);
        while (true) {
            int n = (int) libc.write(fd, chunk, new NativeLong(len)).longValue();
            if (n >= 0) {
                return n;
            }
            int errno = Native.getLastError();
            if (errno == EAGAIN) {
                return -1;
            }
            if (errno != EINTR) {
                throw failure("write", errno);
            }
        }
    }

    /** Waits up to {@code timeoutMillis} for {@code events} on one descriptor; returns revents (0: timeout or signal). */
    int poll(int fd, int events, int timeoutMillis) throws ErrnoException {
        ByteBuffer pollfd = ByteBuffer.allocate(8).order(ORDER);
        pollfd.putInt(0, fd).putShort(4, (short) events);
        byte[] raw = pollfd.array();
        int rc = libc.poll(raw, new NativeLong(1), timeoutMillis);
        if (rc == -1) {
            int errno = Native.getLastError();
            if (errno == EINTR) {
                return 0;
            }
            throw failure("poll", errno);
        }
        return rc == 0 ? 0 : ByteBuffer.wrap(raw).order(ORDER).getShort(6) & 0xffff;
    }

    int epollCreate() throws ErrnoException {
        return check("epoll_create1", libc.epoll_create1(O_CLOEXEC));
    }

    void epollAdd(int epfd, int fd, int events, long data) throws ErrnoException {
        ByteBuffer event = ByteBuffer.allocate(eventBytes).order(ORDER);
        event.putInt(0, events).putLong(eventDataOffset, data);
        check("epoll_ctl(ADD)", libc.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, event.array()));
    }

    void epollDelete(int epfd, int fd) throws ErrnoException {
        check("epoll_ctl(DEL)", libc.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, new byte[eventBytes]));
    }

    /** @return the number of ready events in {@code into} (0 if interrupted by a signal) */
    int epollWait(int epfd, Events into, int timeoutMillis) throws ErrnoException {
        int n = libc.epoll_wait(epfd, into.raw, into.capacity, timeoutMillis);
        if (n == -1) {
            int errno = Native.getLastError();
            if (errno == EINTR) {
                return 0;
            }
            throw failure("epoll_wait", errno);
        }
        return n;
    }

    Events newEvents(int capacity) {
        return new Events(capacity);
    }

    /** A pidfd: readable once the process has exited, and never confused with a later process of that pid. */
    int pidfdOpen(long pid) throws ErrnoException {
        return check("pidfd_open", syscall(SYS_PIDFD_OPEN, pid, 0, 0));
    }

    /** A duplicate (close-on-exec) of descriptor {@code targetFd} of the process behind {@code pidfd}. */
    int pidfdGetfd(int pidfd, int targetFd) throws ErrnoException {
        return check("pidfd_getfd", syscall(SYS_PIDFD_GETFD, pidfd, targetFd, 0));
    }

    private int syscall(long number, long a1, long a2, long a3) {
        return (int) libc.syscall(new NativeLong(number), new NativeLong(a1), new NativeLong(a2), new NativeLong(a3))
                .longValue();
    }

    int eventfd() throws ErrnoException {
        return check("eventfd", libc.eventfd(0, O_CLOEXEC | O_NONBLOCK));
    }

    void eventfdSignal(int fd) throws ErrnoException {
        byte[] one = ByteBuffer.allocate(8).order(ORDER).putLong(0, 1).array();
        write(fd, one, 0, one.length); // EAGAIN only if the counter is near 2^64: it is then signalled anyway
    }

    void eventfdClear(int fd, ByteBuffer direct) throws ErrnoException {
        read(fd, direct);
    }

    /** A reusable array of struct epoll_event, in this platform's layout. */
    final class Events {
        private final byte[] raw;
        private final ByteBuffer view;
        private final int capacity;

        private Events(int capacity) {
            this.capacity = capacity;
            this.raw = new byte[capacity * eventBytes];
            this.view = ByteBuffer.wrap(raw).order(ORDER);
        }

        int events(int i) {
            return view.getInt(i * eventBytes);
        }

        long data(int i) {
            return view.getLong(i * eventBytes + eventDataOffset);
        }
    }
}
