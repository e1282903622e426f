package org.kvmtool.manager.contract;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/** The few libc calls the contract tests need (ptys, signals); only {@link Posix} uses it. */
interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int posix_openpt(int flags) throws LastErrorException;

    int grantpt(int fd) throws LastErrorException;

    int unlockpt(int fd) throws LastErrorException;

    String ptsname(int fd);

    int open(String path, int flags) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    long read(int fd, byte[] buf, long count) throws LastErrorException;

    long write(int fd, byte[] buf, long count) throws LastErrorException;

    int poll(byte[] fds, long nfds, int timeoutMillis) throws LastErrorException;

    int tcgetattr(int fd, byte[] termios) throws LastErrorException;

    int tcsetattr(int fd, int optionalActions, byte[] termios) throws LastErrorException;

    void cfmakeraw(byte[] termios);

    int kill(int pid, int sig) throws LastErrorException;
}
