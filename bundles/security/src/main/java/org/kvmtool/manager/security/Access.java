package org.kvmtool.manager.security;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Whether an unprivileged user may read, write or search an inode: the kernel's own decision
 * (generic_permission with POSIX ACLs) as a pure function, so the manager, running as root, can tell what lkvm's
 * user will be allowed before lkvm tries, and say which directory stands in the way. The exec helper's check as
 * the final user stays the last word (a file system may decide otherwise, e.g. NFS on its server).
 */
final class Access {
    static final int READ = 4;
    static final int WRITE = 2;
    static final int SEARCH = 1;

    private static final int ACL_USER_OBJ = 0x01;
    private static final int ACL_USER = 0x02;
    private static final int ACL_GROUP_OBJ = 0x04;
    private static final int ACL_GROUP = 0x08;
    private static final int ACL_MASK = 0x10;
    private static final int ACL_OTHER = 0x20;
    private static final int ACL_VERSION = 2;

    private Access() {
    }

    /** Who asks: lkvm's uid, its primary gid and its supplementary groups. */
    record Account(int uid, int gid, List<Integer> groups) {
        Account {
            groups = List.copyOf(groups);
        }

        boolean inGroup(int g) {
            return gid == g || groups.contains(g);
        }
    }

    /**
     * An inode's owner, mode and access ACL.
     *
     * @param acl the raw system.posix_acl_access attribute, or null when it has none
     */
    record Inode(int uid, int gid, int mode, byte[] acl) {
    }

    /** True if {@code who} gets every bit of {@code want} (READ, WRITE, SEARCH) on {@code n}. */
    static boolean permits(Inode n, Account who, int want) {
        if (who.uid() == n.uid()) {
            return ((n.mode() >> 6) & want) == want;
        }
        if (n.acl() != null && n.acl().length > 4) {
            return aclPermits(n, who, want);
        }
        int bits = who.inGroup(n.gid()) ? (n.mode() >> 3) & 7 : n.mode() & 7;
        return (bits & want) == want;
    }

    /** posix_acl_permission: owner, then named users, then any matching group entry, then other; all but owner and other under the mask. */
    private static boolean aclPermits(Inode n, Account who, int want) {
        ByteBuffer b = ByteBuffer.wrap(n.acl()).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != ACL_VERSION) {
            return false; // unknown format: assume the worst, the helper's check decides
        }
        int entries = (n.acl().length - 4) / 8;
        int mask = 7;
        for (int i = 0; i < entries; i++) {
            if (b.getShort(4 + i * 8) == ACL_MASK) {
                mask = b.getShort(4 + i * 8 + 2) & 7;
            }
        }
        boolean groupMatched = false;
        for (int i = 0; i < entries; i++) {
            int at = 4 + i * 8;
            int tag = b.getShort(at);
            int perm = b.getShort(at + 2) & 7;
            int id = b.getInt(at + 4);
            switch (tag) {
                case ACL_USER_OBJ, ACL_MASK -> {
                    // the owner was handled before; the mask is applied below
                }
                case ACL_USER -> {
                    if (id == who.uid()) {
                        return (perm & mask & want) == want;
                    }
                }
                case ACL_GROUP_OBJ, ACL_GROUP -> {
                    if (who.inGroup(tag == ACL_GROUP_OBJ ? n.gid() : id)) {
                        groupMatched = true;
                        if ((perm & want) == want) {
                            return (perm & mask & want) == want;
                        }
                    }
                }
                case ACL_OTHER -> {
                    return !groupMatched && (perm & want) == want;
                }
                default -> {
                    return false;
                }
            }
        }
        return false;
    }
}
