package org.kvmtool.manager.contract;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** libc through JNA, errno turned into an IOException that names the call. */
final class Posix {
    static final int O_RDWR = 02;
    static final int O_NOCTTY = 0400;
    static final int O_CLOEXEC = 02000000;
    static final int TCSANOW = 0;
    static final int SIGHUP = 1;
    static final int SIGTERM = 15;
    private static final int EINTR = 4;
    private static final int EIO = 5;
    private static final short POLLIN = 1;
    /** glibc's struct termios is 60 bytes; a larger buffer is harmless. */
    private static final int TERMIOS_SIZE = 128;

    private Posix() {
    }

    static int openpt() throws IOException {
        try {
            int fd = LibC.INSTANCE.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
            LibC.INSTANCE.grantpt(fd);
            LibC.INSTANCE.unlockpt(fd);
            return fd;
        } catch (LastErrorException e) {
            throw new IOException("posix_openpt/grantpt/unlockpt: errno " + e.getErrorCode(), e);
        }
    }

    static String ptsname(int fd) throws IOException {
        String name = LibC.INSTANCE.ptsname(fd);
        if (name == null) {
            throw new IOException("ptsname failed");
        }
        return name;
    }

    static int open(String path, int flags) throws IOException {
        try {
            return LibC.INSTANCE.open(path, flags);
        } catch (LastErrorException e) {
            throw new IOException("open " + path + ": errno " + e.getErrorCode(), e);
        }
    }

    static void close(int fd) {
        try {
            LibC.INSTANCE.close(fd);
        } catch (LastErrorException e) {
            // closing is best effort
        }
    }

    /** Raw mode applied at once (TCSANOW: nothing the guest wrote is discarded). */
    static void makeRaw(int fd) throws IOException {
        byte[] t = new byte[TERMIOS_SIZE];
        try {
            LibC.INSTANCE.tcgetattr(fd, t);
            LibC.INSTANCE.cfmakeraw(t);
            LibC.INSTANCE.tcsetattr(fd, TCSANOW, t);
        } catch (LastErrorException e) {
            throw new IOException("tcsetattr: errno " + e.getErrorCode(), e);
        }
    }

    /** Waits up to timeoutMillis for input; returns the bytes read, empty on timeout, null at end of input. */
    static byte[] readSome(int fd, int timeoutMillis) throws IOException {
        ByteBuffer pfd = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        pfd.putInt(0, fd).putShort(4, POLLIN);
        try {
            int n = LibC.INSTANCE.poll(pfd.array(), 1, timeoutMillis);
            if (n == 0) {
                return new byte[0];
            }
            byte[] buf = new byte[4096];
            long got = LibC.INSTANCE.read(fd, buf, buf.length);
            if (got <= 0) {
                return null;
            }
            byte[] out = new byte[(int) got];
            System.arraycopy(buf, 0, out, 0, out.length);
            return out;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EINTR) {
                return new byte[0];
            }
            if (e.getErrorCode() == EIO) {
                return null;
            }
            throw new IOException("poll/read: errno " + e.getErrorCode(), e);
        }
    }

    static void writeAll(int fd, byte[] data) throws IOException {
        int off = 0;
        try {
            while (off < data.length) {
                byte[] rest = new byte[data.length - off];
                System.arraycopy(data, off, rest, 0, rest.length);
                off += (int) LibC.INSTANCE.write(fd, rest, rest.length);
            }
        } catch (LastErrorException e) {
            throw new IOException("write: errno " + e.getErrorCode(), e);
        }
    }

    static void kill(long pid, int sig) throws IOException {
        try {
            LibC.INSTANCE.kill((int) pid, sig);
        } catch (LastErrorException e) {
            throw new IOException("kill " + pid + ": errno " + e.getErrorCode(), e);
        }
    }
}
