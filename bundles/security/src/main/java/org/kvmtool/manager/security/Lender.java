package org.kvmtool.manager.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import java.util.logging.Logger;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Lends one file to lkvm's user and gives it back, as libvirt's DAC driver does with chown, remembering the
 * original owner and mode on the file itself (trusted.kvmtool.dac.owner = "UID:GID:MODE:INODE", octal mode) and
 * the runs it is lent to ({@link Holders}, trusted.kvmtool.dac.refs). trusted.* attributes can be read and
 * written by root only, so no user can forge what a give-back restores. The inode tells the file from a copy
 * that took its attributes along (cp -a, rsync -X, a restored backup): a copy's are dropped, never obeyed.
 *
 * <p>Order on the file, so that a manager killed between any two steps leaves a state its next activation
 * completes: the holder first, then the original owner, then chown and chmod; back: chown and chmod, then the
 * owner attribute, then the holder. "No owner attribute" therefore always means "the file is as it was".
 *
 * <p>Each step runs on a descriptor opened with O_PATH (no open of a device, no FIFO blocking) through
 * /proc/self/fd/N, checked against the recorded device and inode, while an flock on the file's directory keeps
 * other starts, also those of another manager on the host, from changing the same file meanwhile (the image
 * itself cannot carry it: lkvm's image lock is an flock on it).
 */
final class Lender {
    static final String OWNER = "trusted.kvmtool.dac.owner";
    static final String REFS = "trusted.kvmtool.dac.refs";
    private static final String ACL = "system.posix_acl_access";
    private static final Logger LOG = Logger.getLogger(Lender.class.getName());

    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFSOCK = 0140000;
    private static final int SETID_BITS = 06000;

    /** A file to lend, resolved: what it is to lkvm, the path as written, its real path and identity. */
    record Target(String label, String given, Path real, long dev, long ino, boolean write) {
        LendRecord.Entry entry() {
            return new LendRecord.Entry(dev, ino, write, real.toString());
        }
    }

    /**
     * Whose holders are whose: this manager's id, the host's boot, and whether a domain of this manager has a
     * record (else its holder is left over from a run that is over).
     */
    record Scope(String manager, String boot, Predicate<String> recorded) {
    }

    private final NativeFiles nat;
    private final Duration lockWait;

    Lender(NativeFiles nat, Duration lockWait) {
        this.nat = nat;
        this.lockWait = lockWait;
    }

    /** The real path and identity of a file to lend; a missing one is named as the exec helper would. */
    Target resolve(String label, String given, boolean write) {
        try {
            Path real = Path.of(given).toRealPath();
            Map<String, Object> a = Files.readAttributes(real, "unix:dev,ino");
            return new Target(label, given, real, (Long) a.get("dev"), (Long) a.get("ino"), write);
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, label + " " + given + ": " + LendRecord.reason(e), e);
        }
    }

    /** The first directory on the way to {@code path} that {@code who} may not search, or null. */
    Path blockedAt(Path path, Access.Account who) {
        for (Path dir : SearchPath.dirs(path, this::realOrSelf)) {
            if (!Access.permits(inode(dir.toString()), who, Access.SEARCH)) {
                return dir;
            }
        }
        return null;
    }

    /**
     * Refuses a 9p source directory that {@code who} cannot read and search, naming it or the directory on
     * its way that stands in the way. Nothing is changed: a shared tree is never lent.
     */
    void checkShare(String dir, Access.Account who) {
        Path real;
        try {
            real = Path.of(dir).toRealPath();
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "9p source directory " + dir + ": " + LendRecord.reason(e), e);
        }
        String refusal = "9p source directory " + dir + " cannot be used by uid " + who.uid() + ": ";
        if (!Files.isDirectory(real)) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, refusal + "it is not a directory");
        }
        Path blocked = blockedAt(Path.of(dir), who);
        if (blocked != null) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, refusal + blocked + " denies it search permission"
                    + " (shared directories are never lent: give uid " + who.uid() + " access yourself)");
        }
        if (!Access.permits(inode(real.toString()), who, Access.READ | Access.SEARCH)) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, refusal + real + " denies it read and search permission"
                    + " (shared directories are never lent: give uid " + who.uid() + " access yourself)");
        }
    }

    /**
     * True when {@code t} is usable by {@code who} as it is and carries no lending mark: nothing to lend, nothing
     * to record. A look without the directory lock, to spare a start the record's two syncs in the common case;
     * whatever it does not rule out goes through {@link #lend}, which decides again under the lock.
     */
    boolean usableAsIs(Target t, Access.Account who) {
        try {
            String p = t.real().toString();
            if (nat.getxattr(p, OWNER) != null || blockedAt(Path.of(t.given()), who) != null) {
                return false;
            }
            return Access.permits(inode(p), who, Access.READ | (t.write() ? Access.WRITE : 0));
        } catch (NativeFiles.Failure | KvmtoolException e) {
            return false; // lend() says what is wrong
        }
    }

    /**
     * Makes {@code t} usable by {@code who} for the run {@code holder}: nothing when it already is; else the
     * file is lent (or, already lent to the same user by another run, shared: one more holder). True if the
     * run holds it now.
     */
    boolean lend(Target t, Access.Account who, String holder, Scope scope) {
        Path blocked = blockedAt(Path.of(t.given()), who);
        if (blocked != null) {
            throw cannot(t, who, "directory " + blocked + " denies it search permission (the manager lends files, "
                    + "never directories: give uid " + who.uid() + " search permission on it)");
        }
        return underDirLock(t, () -> {
            int fd = openPath(t);
            try {
                String p = "/proc/self/fd/" + fd;
                Stat st = stat(t, p);
                String owner = ownMark(p, t.ino());
                Holders holders = Holders.parse(nat.getxattr(p, REFS)).live(scope.manager(), scope.boot(), scope.recorded());
                if (owner != null && holders.isEmpty()) {
                    // lent to runs that are all over (a manager that never came back, an earlier boot): give back first
                    LOG.info(() -> t.real() + ": lent to runs that are over; its owner is given back first");
                    putBack(p, owner);
                    owner = null;
                    st = stat(t, p);
                }
                int need = Access.READ | (t.write() ? Access.WRITE : 0);
                if (owner == null && Access.permits(st.inode(acl(p)), who, need)) {
                    return false;
                }
                if (owner != null && st.uid() != who.uid()) {
                    if (Access.permits(st.inode(acl(p)), who, need)) {
                        return false;
                    }
                    throw cannot(t, who, "it is lent to uid " + st.uid() + " for domain(s) " + holders.domains());
                }
                if (owner == null) {
                    checkLendable(t, who, p, st);
                }
                try {
                    nat.setxattr(p, REFS, holders.with(holder).format());
                    if (owner == null) {
                        nat.setxattr(p, OWNER, st.uid() + ":" + st.gid() + ":" + Integer.toOctalString(st.mode() & 07777)
                                + ":" + t.ino());
                        nat.chown(p, who.uid(), who.gid());
                    }
                    int lentMode = (st.mode() & 07777 & ~SETID_BITS) | 0400 | (t.write() ? 0200 : 0);
                    if (owner == null || lentMode != (st.mode() & 07777)) {
                        nat.chmod(p, lentMode);
                    }
                } catch (NativeFiles.Failure f) {
                    KvmtoolException e = cannot(t, who, explain(f, who));
                    try {
                        release(p, holder, scope, t.ino());
                    } catch (NativeFiles.Failure again) {
                        e.addSuppressed(again);
                    }
                    throw e;
                }
                return true;
            } finally {
                nat.close(fd);
            }
        });
    }

    /**
     * Gives the run {@code holder}'s share of a recorded file back: one holder less, and the original owner
     * and mode once none is left. A file gone or replaced since it was recorded has nothing to give back.
     */
    void giveBack(LendRecord.Entry e, String holder, Scope scope) {
        Target t = new Target("file", e.path(), Path.of(e.path()), e.dev(), e.ino(), e.write());
        underDirLock(t, () -> {
            int fd;
            try {
                fd = nat.open(e.path(), NativeFiles.O_PATH | NativeFiles.O_NOFOLLOW);
            } catch (NativeFiles.Failure f) {
                if (f.errno() == NativeFiles.ENOENT) {
                    LOG.info(() -> e.path() + ": gone since it was lent: nothing to give back");
                    return null;
                }
                throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot give back " + e.path() + ": " + f.getMessage());
            }
            try {
                String p = "/proc/self/fd/" + fd;
                Map<String, Object> a = Files.readAttributes(Path.of(p), "unix:dev,ino");
                if ((Long) a.get("dev") != e.dev() || (Long) a.get("ino") != e.ino()) {
                    LOG.info(() -> e.path() + ": replaced since it was lent: the new file is left alone");
                    return null;
                }
                release(p, holder, scope, e.ino());
                return null;
            } catch (IOException | NativeFiles.Failure f) {
                throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot give back " + e.path() + ": " + f.getMessage(), f);
            } finally {
                nat.close(fd);
            }
        });
    }

    /** One holder less; the original owner and mode back when no live holder is left. Idempotent. */
    private void release(String p, String holder, Scope scope, long ino) throws NativeFiles.Failure {
        String owner = ownMark(p, ino);
        String refs = nat.getxattr(p, REFS);
        Holders all = Holders.parse(refs);
        Holders rest = all.without(holder).live(scope.manager(), scope.boot(), scope.recorded());
        if (!rest.isEmpty()) {
            if (!rest.equals(all)) {
                nat.setxattr(p, REFS, rest.format());
            }
            return;
        }
        if (owner != null) {
            putBack(p, owner);
        }
        if (refs != null) { // touch nothing that was never lent (it may sit on a read-only file system)
            nat.removexattr(p, REFS);
        }
    }

    /**
     * The file's recorded original owner, or null: none, or one copied from another file (its inode differs),
     * in which case both attributes are dropped: a copy was never lent, and its holders are another file's.
     */
    private String ownMark(String p, long ino) throws NativeFiles.Failure {
        String owner = nat.getxattr(p, OWNER);
        if (owner == null) {
            return null;
        }
        String[] f = owner.strip().split(":");
        if (f.length == 4 && !f[3].equals(Long.toString(ino))) {
            LOG.info(() -> p + " carries the lending marks of inode " + f[3] + " (a copy): they are dropped");
            nat.removexattr(p, OWNER);
            nat.removexattr(p, REFS);
            return null;
        }
        return owner;
    }

    /** chown and chmod back to "UID:GID:MODE[:INODE]", then the attribute goes (the holders are removed after). */
    private void putBack(String p, String owner) throws NativeFiles.Failure {
        String[] f = owner.strip().split(":");
        if (f.length != 3 && f.length != 4) {
            throw new NativeFiles.Failure("the recorded owner '" + owner + "'", 0, "malformed");
        }
        nat.chown(p, Integer.parseInt(f[0]), Integer.parseInt(f[1]));
        nat.chmod(p, Integer.parseInt(f[2], 8));
        nat.removexattr(p, OWNER);
    }

    private void checkLendable(Target t, Access.Account who, String p, Stat st) throws NativeFiles.Failure {
        int type = st.mode() & S_IFMT;
        if (type != S_IFREG && type != S_IFBLK) {
            throw cannot(t, who, "it is " + typeName(type) + ", not a regular file or block device");
        }
        NativeFiles.FsInfo fs = nat.statfs(p);
        if (fs.nfs()) {
            // NFS keeps no trusted xattrs (the original owner could not be remembered) and, with root_squash,
            // refuses root the chown anyway: say so before trying either
            throw cannot(t, who, "it is on NFS, where root can neither keep the original owner (no trusted "
                    + "extended attributes) nor, with root_squash, change the owner: make it "
                    + (t.write() ? "readable and writable" : "readable") + " by uid " + who.uid() + " on the server");
        }
        if (fs.readOnly()) {
            throw cannot(t, who, "its file system is mounted read-only, so its owner cannot change (make it "
                    + (t.write() ? "readable and writable" : "readable") + " by uid " + who.uid() + ")");
        }
    }

    /** What a failed step means for the user (the file systems that refuse: see checkLendable for NFS). */
    static String explain(NativeFiles.Failure f, Access.Account who) {
        if (f.errno() == NativeFiles.EOPNOTSUPP) {
            return "its file system keeps no trusted extended attributes, where the original owner would be "
                    + "remembered (make it usable by uid " + who.uid() + " yourself)";
        }
        if (f.errno() == NativeFiles.EPERM) {
            return "the file system refused root the change of owner (" + f.getMessage() + "): make it usable by uid "
                    + who.uid() + " yourself";
        }
        return f.getMessage();
    }

    private static KvmtoolException cannot(Target t, Access.Account who, String why) {
        return new KvmtoolException(ErrorCode.SYSTEM_ERROR, t.label() + " " + t.given() + " cannot be lent to uid "
                + who.uid() + ": " + why);
    }

    private static String typeName(int type) {
        return switch (type) {
            case S_IFDIR -> "a directory";
            case S_IFCHR -> "a character device";
            case S_IFIFO -> "a FIFO";
            case S_IFSOCK -> "a socket";
            default -> "a special file";
        };
    }

    private int openPath(Target t) {
        try {
            return nat.open(t.real().toString(), NativeFiles.O_PATH | NativeFiles.O_NOFOLLOW);
        } catch (NativeFiles.Failure f) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, t.label() + " " + t.given() + ": " + f.getMessage());
        }
    }

    /** What stat says through the descriptor, which must still be the recorded file. */
    private Stat stat(Target t, String p) {
        try {
            Map<String, Object> a = Files.readAttributes(Path.of(p), "unix:dev,ino,uid,gid,mode");
            if ((Long) a.get("dev") != t.dev() || (Long) a.get("ino") != t.ino()) {
                throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, t.label() + " " + t.given()
                        + " was replaced while it was being lent: try again");
            }
            return new Stat((Integer) a.get("uid"), (Integer) a.get("gid"), (Integer) a.get("mode"));
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, t.label() + " " + t.given() + ": " + LendRecord.reason(e), e);
        }
    }

    private record Stat(int uid, int gid, int mode) {
        Access.Inode inode(byte[] acl) {
            return new Access.Inode(uid, gid, mode, acl);
        }
    }

    private byte[] acl(String p) {
        try {
            return nat.getxattrBytes(p, ACL);
        } catch (NativeFiles.Failure f) {
            return null; // no ACL support on this file system: the mode decides
        }
    }

    /** Owner, mode and ACL of a directory on the way (following links, as a lookup does). */
    private Access.Inode inode(String path) {
        try {
            Map<String, Object> a = Files.readAttributes(Path.of(path), "unix:uid,gid,mode");
            return new Access.Inode((Integer) a.get("uid"), (Integer) a.get("gid"), (Integer) a.get("mode"), acl(path));
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot read " + path + ": " + LendRecord.reason(e), e);
        }
    }

    private Path realOrSelf(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p;
        }
    }

    interface Locked<T> {
        T run() throws NativeFiles.Failure;
    }

    /**
     * Runs {@code body} holding an flock on the file's directory, waiting at most lockWait for it (a process
     * that holds it for good must not hang a start). Where the directory cannot be flocked (some network file
     * systems) the body runs without it.
     */
    private <T> T underDirLock(Target t, Locked<T> body) {
        Path dir = t.real().getParent();
        int fd = -1;
        try {
            fd = nat.open(dir.toString(), NativeFiles.O_RDONLY | NativeFiles.O_DIRECTORY);
            long deadline = System.nanoTime() + lockWait.toNanos();
            while (!nat.tryLock(fd)) {
                if (System.nanoTime() > deadline) {
                    throw new KvmtoolException(ErrorCode.OPERATION_TIMEOUT, t.label() + " " + t.given()
                            + ": its directory " + dir + " stayed locked (flock) by another process for "
                            + lockWait.toMillis() + " ms");
                }
                Thread.sleep(2);
            }
        } catch (NativeFiles.Failure f) {
            LOG.fine(() -> dir + ": no flock (" + f.getMessage() + "): lending without it");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            nat.close(fd);
            throw new KvmtoolException(ErrorCode.OPERATION_FAILED, "interrupted while waiting for " + dir);
        }
        try {
            return body.run();
        } catch (NativeFiles.Failure f) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, t.label() + " " + t.given() + ": " + f.getMessage());
        } finally {
            if (fd >= 0) {
                nat.unlock(fd);
                nat.close(fd);
            }
        }
    }
}
