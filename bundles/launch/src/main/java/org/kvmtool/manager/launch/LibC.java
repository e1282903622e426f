package org.kvmtool.manager.launch;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

/**
 * The libc calls this bundle needs: the only place JNA types appear. Callers go through {@link Posix},
 * which turns errno into a {@link SysCallException} naming the call.
 */
interface LibC extends Library {
    int posix_spawn(IntByReference pid, String path, Pointer fileActions, Pointer attr, String[] argv, String[] envp);

    int posix_spawnattr_init(Pointer attr);

    int posix_spawnattr_destroy(Pointer attr);

    int posix_spawnattr_setflags(Pointer attr, short flags);

    int posix_spawnattr_setsigmask(Pointer attr, Pointer sigset);

    int posix_spawnattr_setsigdefault(Pointer attr, Pointer sigset);

    int posix_spawn_file_actions_init(Pointer actions);

    int posix_spawn_file_actions_destroy(Pointer actions);

    int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int newfd);

    int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);

    int sigemptyset(Pointer set);

    int sigfillset(Pointer set);

    int pipe2(int[] fds, int flags);

    int open(String path, int flags);

    int close(int fd);

    long read(int fd, byte[] buf, long count);

    long write(int fd, byte[] buf, long count);

    int poll(Pointer fds, long nfds, int timeoutMillis);

    int waitpid(int pid, IntByReference status, int options);

    int waitid(int idtype, int id, Pointer siginfo, int options);

    int kill(int pid, int signal);

    long syscall(long number, Object... args);

    int epoll_create1(int flags);

    int epoll_ctl(int epfd, int op, int fd, Pointer event);

    int epoll_wait(int epfd, Pointer events, int maxEvents, int timeoutMillis);

    int eventfd(int initval, int flags);

    int setpriority(int which, int who, int prio);

    int gettid();

    String strerror(int errno);
}
