package org.kvmtool.manager.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ImageLock;

/** The pure parts: the kernel's permission rule, holders, the record, the search path, the files of a run. */
class PureTest {
    static final Access.Account LKVM = new Access.Account(999, 990, List.of(36));

    static Access.Inode file(int uid, int gid, int mode) {
        return new Access.Inode(uid, gid, 0100000 | mode, null);
    }

    /** An access ACL as the kernel stores it: version 2, then (tag, perm, id) entries. */
    static byte[] acl(int[]... entries) {
        ByteBuffer b = ByteBuffer.allocate(4 + entries.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(2);
        for (int[] e : entries) {
            b.putShort((short) e[0]).putShort((short) e[1]).putInt(e[2]);
        }
        return b.array();
    }

    @Test
    void modeBitsForOwnerGroupsAndOthers() {
        assertFalse(Access.permits(file(0, 0, 0600), LKVM, Access.READ), "root's 0600 file");
        assertTrue(Access.permits(file(999, 0, 0600), LKVM, Access.READ | Access.WRITE), "its own");
        assertFalse(Access.permits(file(999, 0, 0077), LKVM, Access.READ), "the owner gets the owner bits only");
        assertTrue(Access.permits(file(0, 990, 0640), LKVM, Access.READ), "its primary group");
        assertTrue(Access.permits(file(0, 36, 0660), LKVM, Access.READ | Access.WRITE), "a supplementary group");
        assertFalse(Access.permits(file(0, 36, 0604), LKVM, Access.READ), "a group member gets the group bits, not other's");
        assertTrue(Access.permits(file(0, 0, 0644), LKVM, Access.READ));
        assertFalse(Access.permits(file(0, 0, 0644), LKVM, Access.READ | Access.WRITE));
        assertTrue(Access.permits(new Access.Inode(0, 0, 040711, null), LKVM, Access.SEARCH));
        assertFalse(Access.permits(new Access.Inode(0, 0, 040700, null), LKVM, Access.SEARCH));
    }

    @Test
    void aclEntriesAsTheKernelReadsThem() {
        int userObj = 1, user = 2, groupObj = 4, group = 8, mask = 0x10, other = 0x20;
        byte[] namedUser = acl(new int[] {userObj, 6, -1}, new int[] {user, 6, 999}, new int[] {groupObj, 0, -1},
                new int[] {mask, 6, -1}, new int[] {other, 0, -1});
        assertTrue(Access.permits(new Access.Inode(0, 0, 0100660, namedUser), LKVM, Access.READ | Access.WRITE));
        byte[] masked = acl(new int[] {userObj, 6, -1}, new int[] {user, 6, 999}, new int[] {groupObj, 0, -1},
                new int[] {mask, 4, -1}, new int[] {other, 0, -1});
        assertTrue(Access.permits(new Access.Inode(0, 0, 0100640, masked), LKVM, Access.READ));
        assertFalse(Access.permits(new Access.Inode(0, 0, 0100640, masked), LKVM, Access.WRITE), "the mask limits it");
        byte[] namedGroup = acl(new int[] {userObj, 6, -1}, new int[] {groupObj, 0, -1}, new int[] {group, 4, 36},
                new int[] {mask, 4, -1}, new int[] {other, 7, -1});
        assertTrue(Access.permits(new Access.Inode(0, 0, 0100647, namedGroup), LKVM, Access.READ));
        assertFalse(Access.permits(new Access.Inode(0, 0, 0100647, namedGroup), LKVM, Access.WRITE),
                "a matching group entry that lacks the bit denies, whatever other says");
        byte[] otherOnly = acl(new int[] {userObj, 6, -1}, new int[] {groupObj, 0, -1}, new int[] {user, 6, 12},
                new int[] {mask, 6, -1}, new int[] {other, 4, -1});
        assertTrue(Access.permits(new Access.Inode(0, 0, 0100664, otherOnly), LKVM, Access.READ));
        assertFalse(Access.permits(new Access.Inode(0, 0, 0100664, otherOnly), LKVM, Access.WRITE));
    }

    @Test
    void holdersAreASetThatForgetsRunsThatAreOver() {
        Holders h = Holders.parse("b@m1@boot1\na@m1@boot1\n\nold@m1@boot0\nx@m2@boot1\ngone@m1@boot1\n");
        assertEquals("a@m1@boot1\nb@m1@boot1\ngone@m1@boot1\nold@m1@boot0\nx@m2@boot1\n", h.format(), "sorted, one a line");
        assertEquals(h, h.with("a@m1@boot1"), "adding twice changes nothing");
        assertEquals(h.without("zz@m1@boot1"), h, "removing one not there changes nothing");
        Holders live = h.live("m1", "boot1", Set.of("a", "b")::contains);
        assertEquals(Set.of("a@m1@boot1", "b@m1@boot1", "x@m2@boot1"), live.all(),
                "an earlier boot's and this manager's unrecorded runs are over; another manager's are not ours to judge");
        assertEquals(List.of("a", "b", "x"), live.domains());
        assertTrue(Holders.parse(null).isEmpty());
        assertEquals("vm@0badcafe@12345678", Holders.token("vm", "0badcafe", "12345678"));
    }

    @Test
    void theRecordRoundTripsAndRefusesGarbage() {
        LendRecord r = new LendRecord("vm1", List.of(new LendRecord.Entry(2049, 77, true, "/img/a b.img"),
                new LendRecord.Entry(2049, 78, false, "/boot/bz")));
        String text = LendRecord.format(r);
        assertEquals("# kvmtool-manager: files lent to lkvm's user for domain vm1, given back when its run ends\n"
                + "2049 77 rw /img/a b.img\n2049 78 r /boot/bz\n", text);
        assertEquals(r, LendRecord.parse("vm1", text));
        assertThrows(IllegalArgumentException.class, () -> LendRecord.parse("vm1", "1 2 x /a\n"));
        assertThrows(NumberFormatException.class, () -> LendRecord.parse("vm1", "a 2 r /a\n"));
    }

    @Test
    void theSearchPathFollowsLinksToTheirTargets() {
        Map<String, String> links = Map.of("/a/link", "/x/y", "/a/link/file", "/x/y/file", "/img/k", "/store/k");
        List<Path> dirs = SearchPath.dirs(Path.of("/a/link/file"), p -> Path.of(links.getOrDefault(p.toString(), p.toString())));
        assertEquals(List.of(Path.of("/"), Path.of("/a"), Path.of("/x"), Path.of("/a/link"), Path.of("/x/y")), dirs);
        assertEquals(List.of(Path.of("/"), Path.of("/img"), Path.of("/store")),
                SearchPath.dirs(Path.of("/img/k"), p -> Path.of(links.getOrDefault(p.toString(), p.toString()))));
    }

    @Test
    void aRunOpensItsKernelInitrdAndDisksAndLocksEachImageOnce() {
        DomainDefinition def = new DomainDefinition("vm", UUID.randomUUID(), null, null, 64 << 20, 64 << 20, 1,
                new DomainDefinition.OsSpec("x86_64", "/k/bz", "/k/initrd", null, List.of()), null,
                DomainDefinition.LifecycleAction.DESTROY, DomainDefinition.LifecycleAction.RESTART,
                DomainDefinition.LifecycleAction.DESTROY, null, null,
                new DomainDefinition.Devices(List.of(new DomainDefinition.Disk("/img/a", "vda", false, false),
                        new DomainDefinition.Disk("/img/ro", "vdb", true, false),
                        new DomainDefinition.Disk("/img/ro", "vdc", false, false),
                        new DomainDefinition.Disk("/img/shared", "vdd", true, false)),
                        List.of(new DomainDefinition.Filesystem("/srv", "tag")),
                        new DomainDefinition.Console(DomainDefinition.ConsoleType.SERIAL), false, List.of(), false));
        assertEquals(List.of(new RunFiles.Wanted("kernel", "/k/bz", false), new RunFiles.Wanted("initrd", "/k/initrd", false),
                new RunFiles.Wanted("disk", "/img/a", true), new RunFiles.Wanted("disk", "/img/ro", false),
                new RunFiles.Wanted("disk", "/img/ro", true), new RunFiles.Wanted("disk", "/img/shared", false)),
                RunFiles.of(def), "9p directories are never among the files lent");
        assertEquals(List.of(new ImageLock("disk", "/img/a", true), new ImageLock("disk", "/img/ro", true),
                new ImageLock("disk", "/img/shared", false)), RunFiles.locks(def));
    }

    @Test
    void aRefusedStepSaysWhatItMeans() {
        assertEquals("its file system keeps no trusted extended attributes, where the original owner would be remembered "
                + "(make it usable by uid 999 yourself)", Lender.explain(new NativeFiles.Failure("setxattr trusted.kvmtool.dac.refs",
                NativeFiles.EOPNOTSUPP, "Operation not supported"), LKVM));
        assertEquals("the file system refused root the change of owner (chown: Operation not permitted): make it usable by "
                + "uid 999 yourself", Lender.explain(new NativeFiles.Failure("chown", NativeFiles.EPERM, "Operation not permitted"), LKVM));
        assertEquals("chmod: Input/output error", Lender.explain(new NativeFiles.Failure("chmod", 5, "Input/output error"), LKVM));
    }

    @Test
    void theManagerIdIsAHashOfItsStateDirectory() {
        assertEquals(DacSecurityDriver.managerId(Path.of("/run/kvmtool-manager/lent")),
                DacSecurityDriver.managerId(Path.of("/run/kvmtool-manager/./lent")));
        assertFalse(DacSecurityDriver.managerId(Path.of("/run/a")).equals(DacSecurityDriver.managerId(Path.of("/run/b"))));
        assertTrue(DacSecurityDriver.managerId(Path.of("/run/a")).matches("[0-9a-f]{8}"));
    }
}
