package org.kvmtool.manager.security;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The libc calls of this bundle, the only place JNA appears (so it can move onto a shared native binding):
 * ownership, mode, extended attributes, statfs and flock. Paths are used as given: a path through
 * /proc/self/fd/N acts on the file that descriptor holds (an O_PATH descriptor, which opens nothing and has
 * no side effect on a device). errno becomes a {@link Failure} naming the call.
 */
final class NativeFiles {
    static final int O_RDONLY = 0;
    static final int O_NOFOLLOW = 0x20000;
    static final int O_DIRECTORY = 0x10000;
    static final int O_CLOEXEC = 0x80000;
    static final int O_PATH = 0x200000;

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int ENODATA = 61;
    static final int EOPNOTSUPP = 95;

    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int LOCK_UN = 8;
    private static final int XATTR_SIZE_MAX = 65536;
    /** struct statfs on 64-bit Linux (x86-64, arm64): f_type at 0, f_flags at 80, 120 bytes. */
    private static final int STATFS_BYTES = 120;
    private static final int STATFS_FLAGS_OFFSET = 80;
    private static final long ST_RDONLY = 1;

    /** A failed call and its errno. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        private final int errno;

        Failure(String call, int errno, String text) {
            super(call + ": " + text);
            this.errno = errno;
        }

        int errno() {
            return errno;
        }
    }

    /** What statfs says about a file's file system. */
    record FsInfo(long type, boolean readOnly) {
        static final long NFS_SUPER_MAGIC = 0x6969;

        boolean nfs() {
            return type == NFS_SUPER_MAGIC;
        }
    }

    interface LibC extends Library {
        int open(String path, int flags);

        int close(int fd);

        int chown(String path, int uid, int gid);

        int chmod(String path, int mode);

        long getxattr(String path, String name, byte[] value, long size);

        int setxattr(String path, String name, byte[] value, long size, int flags);

        int removexattr(String path, String name);

        int statfs(String path, byte[] buf);

        int flock(int fd, int operation);

        String strerror(int errno);
    }

    private final LibC c;

    NativeFiles() {
        this.c = Native.load("c", LibC.class);
    }

    String strerror(int errno) {
        return c.strerror(errno);
    }

    private Failure failure(String call) {
        int errno = Native.getLastError();
        return new Failure(call, errno, c.strerror(errno));
    }

    int open(String path, int flags) throws Failure {
        int fd = c.open(path, flags | O_CLOEXEC);
        if (fd < 0) {
            throw failure("open");
        }
        return fd;
    }

    void close(int fd) {
        c.close(fd);
    }

    void chown(String path, int uid, int gid) throws Failure {
        if (c.chown(path, uid, gid) < 0) {
            throw failure("chown");
        }
    }

    void chmod(String path, int mode) throws Failure {
        if (c.chmod(path, mode) < 0) {
            throw failure("chmod");
        }
    }

    /** The attribute's value, or null when the file has none. */
    String getxattr(String path, String name) throws Failure {
        byte[] raw = getxattrBytes(path, name);
        return raw == null ? null : new String(raw, StandardCharsets.UTF_8);
    }

    byte[] getxattrBytes(String path, String name) throws Failure {
        byte[] buf = new byte[XATTR_SIZE_MAX];
        long n = c.getxattr(path, name, buf, buf.length);
        if (n < 0) {
            int errno = Native.getLastError();
            if (errno == ENODATA || errno == EOPNOTSUPP) {
                return null; // none, or a file system without them: nothing was remembered there
            }
            throw failure("getxattr " + name);
        }
        byte[] out = new byte[(int) n];
        System.arraycopy(buf, 0, out, 0, out.length);
        return out;
    }

    void setxattr(String path, String name, String value) throws Failure {
        byte[] b = value.getBytes(StandardCharsets.UTF_8);
        if (c.setxattr(path, name, b, b.length, 0) < 0) {
            throw failure("setxattr " + name);
        }
    }

    /** Removes the attribute; one that is not there is fine. */
    void removexattr(String path, String name) throws Failure {
        if (c.removexattr(path, name) < 0 && Native.getLastError() != ENODATA) {
            throw failure("removexattr " + name);
        }
    }

    FsInfo statfs(String path) throws Failure {
        byte[] buf = new byte[STATFS_BYTES];
        if (c.statfs(path, buf) < 0) {
            throw failure("statfs");
        }
        ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
        return new FsInfo(b.getLong(0), (b.getLong(STATFS_FLAGS_OFFSET) & ST_RDONLY) != 0);
    }

    /** flock(LOCK_EX | LOCK_NB): false when another open file holds it. */
    boolean tryLock(int fd) throws Failure {
        while (c.flock(fd, LOCK_EX | LOCK_NB) < 0) {
            int errno = Native.getLastError();
            if (errno == EAGAIN) {
                return false;
            }
            if (errno != EINTR) {
                throw new Failure("flock", errno, c.strerror(errno));
            }
        }
        return true;
    }

    void unlock(int fd) {
        c.flock(fd, LOCK_UN);
    }
}
