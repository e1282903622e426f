package org.kvmtool.manager.launch;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

import java.util.List;

/**
 * The bundle's system calls, in plain Java types. The one place where errno becomes an exception
 * ({@link SysCallException}, naming the call) and where native memory is allocated and freed; no
 * {@link Pointer} leaves this class.
 */
final class Posix {
    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_NOCTTY = 0x100;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int ESRCH = 3;
    static final int EINTR = 4;
    static final int ENOEXEC = 8;
    static final int ECHILD = 10;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EPIPE = 32;

    static final int SIGKILL = 9;
    static final int SIGTERM = 15;

    /** How a child ended, from waitid's siginfo: si_code CLD_EXITED, CLD_KILLED or CLD_DUMPED. */
    record ChildExit(int pid, boolean exited, int status) {
    }

    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final short POSIX_SPAWN_SETSID = 0x80;
    private static final int SIGSET_BYTES = 128;
    private static final int SPAWN_STRUCT_BYTES = 512; // glibc: attr 336, file actions 80 bytes

    private static final long SYS_PIDFD_SEND_SIGNAL = 424; // same number on every architecture
    private static final long SYS_PIDFD_OPEN = 434;
    private static final int P_PIDFD = 3;
    private static final int WNOHANG = 1;
    private static final int WEXITED = 4;
    private static final int CLD_EXITED = 1;

    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    private static final int EPOLLIN = 1;
    // struct epoll_event is packed on x86 (12 bytes), naturally aligned elsewhere (16 bytes).
    private static final int EPOLL_EVENT_BYTES = Platform.isIntel() ? 12 : 16;
    private static final int EPOLL_DATA_OFFSET = Platform.isIntel() ? 4 : 8;
    private static final short POLLIN = 1;
    private static final int PRIO_PROCESS = 0;

    private final LibC c;

    Posix() {
        this.c = Native.load("c", LibC.class);
    }

    /** JNA's name for this OS and CPU ("linux-x86-64"): where the bundle keeps its native helper. */
    static String resourcePrefix() {
        return Platform.RESOURCE_PREFIX;
    }

    String strerror(int errno) {
        return c.strerror(errno);
    }

    private SysCallException error(String call, int errno) {
        return new SysCallException(call, errno, c.strerror(errno));
    }

    private int check(String call, int result) throws SysCallException {
        if (result < 0) {
            throw error(call, Native.getLastError());
        }
        return result;
    }

    /**
     * posix_spawn with a new session, an empty signal mask, every signal at its default, {@code stdioFd}
     * as 0, 1 and 2, {@code fd3} as 3, {@code fd4} as 4 and nothing else open. Returns the pid.
     */
    int spawn(String path, List<String> argv, List<String> env, int stdioFd, int fd3, int fd4) throws SysCallException {
        try (Memory attr = new Memory(SPAWN_STRUCT_BYTES); Memory actions = new Memory(SPAWN_STRUCT_BYTES);
             Memory sigset = new Memory(SIGSET_BYTES)) {
            attr.clear();
            actions.clear();
            spawnCheck("posix_spawnattr_init", c.posix_spawnattr_init(attr));
            try {
                spawnCheck("posix_spawn_file_actions_init", c.posix_spawn_file_actions_init(actions));
                try {
                    spawnCheck("posix_spawnattr_setflags", c.posix_spawnattr_setflags(attr,
                            (short) (POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)));
                    c.sigemptyset(sigset);
                    spawnCheck("posix_spawnattr_setsigmask", c.posix_spawnattr_setsigmask(attr, sigset));
                    c.sigfillset(sigset);
                    spawnCheck("posix_spawnattr_setsigdefault", c.posix_spawnattr_setsigdefault(attr, sigset));
                    for (int fd = 0; fd <= 2; fd++) {
                        spawnCheck("posix_spawn_file_actions_adddup2",
                                c.posix_spawn_file_actions_adddup2(actions, stdioFd, fd));
                    }
                    spawnCheck("posix_spawn_file_actions_adddup2", c.posix_spawn_file_actions_adddup2(actions, fd3, 3));
                    spawnCheck("posix_spawn_file_actions_adddup2", c.posix_spawn_file_actions_adddup2(actions, fd4, 4));
                    spawnCheck("posix_spawn_file_actions_addclosefrom_np",
                            c.posix_spawn_file_actions_addclosefrom_np(actions, 5));
                    IntByReference pid = new IntByReference();
                    int rc = c.posix_spawn(pid, path, actions, attr, argv.toArray(String[]::new),
                            env.toArray(String[]::new));
                    if (rc != 0) {
                        throw error("posix_spawn(" + path + ")", rc);
                    }
                    return pid.getValue();
                } finally {
                    c.posix_spawn_file_actions_destroy(actions);
                }
            } finally {
                c.posix_spawnattr_destroy(attr);
            }
        }
    }

    /** The posix_spawn family returns the error number instead of setting errno. */
    private void spawnCheck(String call, int rc) throws SysCallException {
        if (rc != 0) {
            throw error(call, rc);
        }
    }

    /** A close-on-exec pipe: [read end, write end]. */
    int[] pipe() throws SysCallException {
        int[] fds = new int[2];
        check("pipe2", c.pipe2(fds, O_CLOEXEC));
        return fds;
    }

    int open(String path, int flags) throws SysCallException {
        return check("open(" + path + ")", c.open(path, flags | O_CLOEXEC));
    }

    /** close(2), ignoring errors: the descriptor is gone either way on Linux. */
    void close(int fd) {
        if (fd >= 0) {
            c.close(fd);
        }
    }

    /** read(2), retried on EINTR; 0 at end of file. */
    int read(int fd, byte[] buf) throws SysCallException {
        while (true) {
            long n = c.read(fd, buf, buf.length);
            if (n >= 0) {
                return (int) n;
            }
            int errno = Native.getLastError();
            if (errno != EINTR) {
                throw error("read(" + fd + ")", errno);
            }
        }
    }

    /**
     * write(2) of a few bytes to a pipe, retried on EINTR. A reader already gone (EPIPE; the JVM ignores
     * SIGPIPE) is not an error: the caller learns why from elsewhere.
     */
    void writeIgnoringEpipe(int fd, byte[] buf) throws SysCallException {
        while (true) {
            long n = c.write(fd, buf, buf.length);
            if (n == buf.length) {
                return;
            }
            int errno = Native.getLastError();
            if (n < 0 && errno == EPIPE) {
                return;
            }
            if (n >= 0 || errno != EINTR) {
                throw error("write(" + fd + ")", n >= 0 ? EAGAIN : errno);
            }
        }
    }

    /** Waits until {@code fd} is readable (or hung up); false on timeout. */
    boolean pollIn(int fd, int timeoutMillis) throws SysCallException {
        try (Memory pfd = new Memory(8)) {
            pfd.setInt(0, fd);
            pfd.setShort(4, POLLIN);
            pfd.setShort(6, (short) 0);
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
            while (true) {
                int left = timeoutMillis < 0 ? -1 : (int) Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
                int n = c.poll(pfd, 1, left);
                if (n >= 0) {
                    return n > 0;
                }
                int errno = Native.getLastError();
                if (errno != EINTR) {
                    throw error("poll(" + fd + ")", errno);
                }
            }
        }
    }

    /** Reaps a child, blocking; returns the raw wait status. */
    int waitpid(int pid) throws SysCallException {
        IntByReference status = new IntByReference();
        while (true) {
            int rc = c.waitpid(pid, status, 0);
            if (rc >= 0) {
                return status.getValue();
            }
            int errno = Native.getLastError();
            if (errno != EINTR) {
                throw error("waitpid(" + pid + ")", errno);
            }
        }
    }

    void kill(int pid, int signal) throws SysCallException {
        check("kill(" + pid + ", " + signal + ")", c.kill(pid, signal));
    }

    int pidfdOpen(long pid) throws SysCallException {
        return check("pidfd_open(" + pid + ")", (int) c.syscall(SYS_PIDFD_OPEN, (int) pid, 0));
    }

    void pidfdSendSignal(int pidfd, int signal) throws SysCallException {
        check("pidfd_send_signal(" + signal + ")",
                (int) c.syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, signal, Pointer.NULL, 0));
    }

    /**
     * Reaps the child behind a pidfd without blocking. Null while it still runs; ECHILD when it is not
     * our child (adopted after a restart).
     */
    ChildExit waitPidfd(int pidfd) throws SysCallException {
        try (Memory info = new Memory(128)) {
            info.clear();
            while (true) {
                int rc = c.waitid(P_PIDFD, pidfd, info, WEXITED | WNOHANG);
                if (rc == 0) {
                    break;
                }
                int errno = Native.getLastError();
                if (errno != EINTR) {
                    throw error("waitid(P_PIDFD, " + pidfd + ")", errno);
                }
            }
            int pid = info.getInt(siginfoPidOffset());
            if (pid == 0) {
                return null;
            }
            int code = info.getInt(8);
            int status = info.getInt(siginfoPidOffset() + 8);
            return new ChildExit(pid, code == CLD_EXITED, status);
        }
    }

    /** si_pid follows si_signo, si_errno, si_code and the union's pointer alignment. */
    private static int siginfoPidOffset() {
        return Native.POINTER_SIZE == 8 ? 16 : 12;
    }

    /** Sets the nice value of the calling thread (Linux applies PRIO_PROCESS with a tid to that thread). */
    void niceCurrentThread(int nice) throws SysCallException {
        check("setpriority(" + nice + ")", c.setpriority(PRIO_PROCESS, c.gettid(), nice));
    }

    int epollCreate() throws SysCallException {
        return check("epoll_create1", c.epoll_create1(O_CLOEXEC));
    }

    void epollAdd(int epfd, int fd, long key) throws SysCallException {
        try (Memory ev = new Memory(EPOLL_EVENT_BYTES)) {
            ev.clear();
            ev.setInt(0, EPOLLIN);
            ev.setLong(EPOLL_DATA_OFFSET, key);
            check("epoll_ctl(ADD, " + fd + ")", c.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ev));
        }
    }

    void epollDelete(int epfd, int fd) throws SysCallException {
        try (Memory ev = new Memory(EPOLL_EVENT_BYTES)) {
            ev.clear();
            check("epoll_ctl(DEL, " + fd + ")", c.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, ev));
        }
    }

    /** Waits for events and stores their keys; returns how many (0 on timeout or EINTR). */
    int epollWait(int epfd, long[] keys, int timeoutMillis) throws SysCallException {
        try (Memory evs = new Memory((long) EPOLL_EVENT_BYTES * keys.length)) {
            int n = c.epoll_wait(epfd, evs, keys.length, timeoutMillis);
            if (n < 0) {
                int errno = Native.getLastError();
                if (errno == EINTR) {
                    return 0;
                }
                throw error("epoll_wait", errno);
            }
            for (int i = 0; i < n; i++) {
                keys[i] = evs.getLong((long) i * EPOLL_EVENT_BYTES + EPOLL_DATA_OFFSET);
            }
            return n;
        }
    }

    int eventfd() throws SysCallException {
        return check("eventfd", c.eventfd(0, O_CLOEXEC | O_NONBLOCK));
    }

    void eventfdSignal(int fd) throws SysCallException {
        byte[] one = {1, 0, 0, 0, 0, 0, 0, 0};
        if (c.write(fd, one, 8) < 0) {
            int errno = Native.getLastError();
            if (errno != EAGAIN) {
                throw error("write(eventfd)", errno);
            }
        }
    }

    void eventfdDrain(int fd) {
        c.read(fd, new byte[8], 8);
    }
}
