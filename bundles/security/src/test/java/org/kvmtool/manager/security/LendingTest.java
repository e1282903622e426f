package org.kvmtool.manager.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.ImageLock;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.SecurityDriver;

/**
 * Lending for real, as root, to the unprivileged user nobody: owners, modes and trusted xattrs on real files,
 * the record in a real state directory, and every state a manager killed between two steps can leave.
 */
class LendingTest {
    static final int NOBODY = 65534;
    static final String BOOT = "b00710ad";

    @TempDir
    Path tmp;
    Path images;
    Path state;
    DacSecurityDriver security;
    NativeFiles nat;
    final List<Path> mounts = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(isRoot(), "lending changes owners: needs root");
        nat = new NativeFiles();
        // the way to the images must be searchable by lkvm's user: directories are never lent
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        images = Files.createDirectories(tmp.resolve("images"));
        state = tmp.resolve("run/lent");
        security = new DacSecurityDriver(true, BOOT);
        assumeTrue(xattrsWork(), "the file system of " + tmp + " keeps no trusted xattrs");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Path m : mounts) {
            run("umount", m.toString());
        }
    }

    static boolean isRoot() {
        try {
            return Files.readString(Path.of("/proc/self/status")).lines().anyMatch(l -> l.matches("Uid:\\s+0\\s.*"));
        } catch (IOException e) {
            return false;
        }
    }

    private boolean xattrsWork() throws IOException {
        Path probe = Files.writeString(tmp.resolve("probe"), "x");
        try {
            nat.setxattr(probe.toString(), Lender.REFS, "x");
            return true;
        } catch (NativeFiles.Failure f) {
            return false;
        } finally {
            Files.delete(probe);
        }
    }

    static int run(String... cmd) throws IOException, InterruptedException {
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }

    /** A root-owned file with that mode. */
    Path rootFile(String name, String mode) throws IOException {
        Path p = Files.write(images.resolve(name), new byte[512]);
        Files.setAttribute(p, "unix:uid", 0);
        Files.setAttribute(p, "unix:gid", 0);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        return p;
    }

    static String owner(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:uid,gid,mode");
        return a.get("uid") + ":" + a.get("gid") + ":" + Integer.toOctalString((Integer) a.get("mode") & 07777);
    }

    String xattr(Path p, String name) throws NativeFiles.Failure {
        return nat.getxattr(p.toString(), name);
    }

    static DomainDefinition def(String name, String kernel, DomainDefinition.Disk... disks) {
        return def(name, kernel, List.of(), disks);
    }

    static DomainDefinition def(String name, String kernel, List<DomainDefinition.Filesystem> shares,
                                DomainDefinition.Disk... disks) {
        return new DomainDefinition(name, UUID.nameUUIDFromBytes(name.getBytes()), null, null, 64 << 20, 64 << 20, 1,
                new DomainDefinition.OsSpec("x86_64", kernel, null, null, List.of()), null,
                DomainDefinition.LifecycleAction.DESTROY, DomainDefinition.LifecycleAction.RESTART,
                DomainDefinition.LifecycleAction.DESTROY, null, null,
                new DomainDefinition.Devices(List.of(disks), shares,
                        new DomainDefinition.Console(DomainDefinition.ConsoleType.SERIAL), false, List.of(), false));
    }

    static DomainDefinition.Disk disk(Path p, boolean readOnly) {
        return new DomainDefinition.Disk(p.toString(), "vd" + (char) ('a' + Math.abs(p.hashCode() % 20)), readOnly, false);
    }

    SecurityDriver.Lease prepare(DomainDefinition d) {
        return security.prepare(state, d, NOBODY, NOBODY, List.of());
    }

    @Test
    void rootOnlyKernelAndDiskAreLentForTheRunAndGivenBackExactly() throws Exception {
        Path kernel = rootFile("bzImage", "rw-------");
        Path image = rootFile("root.img", "r--r-----");
        SecurityDriver.Lease lease = prepare(def("vm1", kernel.toString(), disk(image, false)));

        assertEquals(List.of(kernel.toString(), image.toString()), lease.lent());
        assertEquals(List.of(new ImageLock("disk", image.toString(), true)), lease.locks());
        assertEquals(NOBODY + ":" + NOBODY + ":600", owner(kernel), "lkvm's user owns the kernel for the run");
        assertEquals(NOBODY + ":" + NOBODY + ":640", owner(image), "and may write the disk");
        assertEquals("0:0:600:" + Files.getAttribute(kernel, "unix:ino"), xattr(kernel, Lender.OWNER));
        assertEquals("0:0:440:" + Files.getAttribute(image, "unix:ino"), xattr(image, Lender.OWNER));
        String holder = "vm1@" + DacSecurityDriver.managerId(state) + "@" + BOOT + "\n";
        assertEquals(holder, xattr(image, Lender.REFS));
        assertTrue(Files.readString(state.resolve("vm1")).contains(" rw " + image + "\n"), "recorded on disk");

        security.restore(state, "vm1");
        assertEquals("0:0:600", owner(kernel));
        assertEquals("0:0:440", owner(image));
        assertNull(xattr(kernel, Lender.OWNER));
        assertNull(xattr(image, Lender.REFS));
        assertFalse(Files.exists(state.resolve("vm1")), "nothing left to give back");
        security.restore(state, "vm1"); // idempotent
        assertEquals("0:0:440", owner(image));
    }

    @Test
    void aFileTheUserCanAlreadyUseIsLeftAlone() throws Exception {
        Path kernel = rootFile("bzImage", "rw-r--r--");
        Path image = rootFile("ro.img", "rw-r--r--");
        SecurityDriver.Lease lease = prepare(def("vm1", kernel.toString(), disk(image, true)));
        assertEquals(List.of(), lease.lent());
        assertEquals(List.of(new ImageLock("disk", image.toString(), false)), lease.locks());
        assertEquals("0:0:644", owner(kernel));
        assertNull(xattr(kernel, Lender.OWNER));
        assertFalse(Files.exists(state.resolve("vm1")), "nothing to record");
        security.restore(state, "vm1");
        assertEquals("0:0:644", owner(kernel));
    }

    @Test
    void aReadOnlyFileSharedByRunsIsGivenBackByTheLastOne() throws Exception {
        Path kernel = rootFile("bzImage", "rw-------");
        Path base = rootFile("base.img", "rw-------");
        prepare(def("a", kernel.toString(), disk(base, true)));
        prepare(def("b", kernel.toString(), disk(base, true)));
        assertEquals(2, Holders.parse(xattr(base, Lender.REFS)).all().size(), "two references");
        assertEquals(NOBODY + ":" + NOBODY + ":600", owner(base));

        security.restore(state, "a");
        assertEquals(NOBODY + ":" + NOBODY + ":600", owner(base), "b still runs on it");
        assertEquals(NOBODY + ":" + NOBODY + ":600", owner(kernel));
        assertEquals(1, Holders.parse(xattr(kernel, Lender.REFS)).all().size());
        security.restore(state, "b");
        assertEquals("0:0:600", owner(base));
        assertEquals("0:0:600", owner(kernel));
        assertNull(xattr(base, Lender.REFS));
    }

    @Test
    void aManagerKilledAtAnyStepOfALendOrGiveBackGivesBackAtActivation() throws Exception {
        Path kernel = rootFile("bzImage", "-w-------"); // lent as 0600: both chown and chmod happen
        String token = Holders.token("vm1", DacSecurityDriver.managerId(state), BOOT) + "\n";
        LendRecord record = new LendRecord("vm1", List.of(
                new LendRecord.Entry((Long) Files.getAttribute(kernel, "unix:dev"), (Long) Files.getAttribute(kernel, "unix:ino"),
                        false, kernel.toString())));
        // the state the file is in when the manager dies between two steps (the record is always there first)
        Map<String, Runnable> killedAfter = new java.util.LinkedHashMap<>();
        killedAfter.put("the record", () -> { });
        killedAfter.put("the holder", () -> set(kernel, Lender.REFS, token));
        killedAfter.put("the original owner", () -> {
            set(kernel, Lender.REFS, token);
            set(kernel, Lender.OWNER, "0:0:200");
        });
        killedAfter.put("chown", () -> {
            killedAfter.get("the original owner").run();
            chown(kernel, NOBODY, "-w-------");
        });
        killedAfter.put("chmod (lent)", () -> {
            killedAfter.get("the original owner").run();
            chown(kernel, NOBODY, "rw-------");
        });
        killedAfter.put("the chown back", () -> {
            killedAfter.get("the original owner").run();
            chown(kernel, 0, "rw-------");
        });
        killedAfter.put("the chmod back", () -> {
            killedAfter.get("the original owner").run();
            chown(kernel, 0, "-w-------");
        });
        killedAfter.put("the original owner's removal", () -> set(kernel, Lender.REFS, token));
        for (Map.Entry<String, Runnable> step : killedAfter.entrySet()) {
            record.write(state);
            step.getValue().run();
            DacSecurityDriver next = new DacSecurityDriver(true, BOOT); // the next activation
            assertEquals(List.of(), next.recover(state, Set.of("vm1")), "a live run keeps what it was lent");
            assertEquals(List.of("vm1"), next.recover(state, Set.of()), step.getKey());
            assertEquals("0:0:200", owner(kernel), "killed after " + step.getKey());
            assertNull(xattr(kernel, Lender.OWNER), step.getKey());
            assertNull(xattr(kernel, Lender.REFS), step.getKey());
            assertFalse(Files.exists(state.resolve("vm1")), step.getKey());
        }
    }

    private void set(Path p, String name, String value) {
        try {
            if (value.isEmpty()) {
                nat.removexattr(p.toString(), name);
            } else {
                nat.setxattr(p.toString(), name, value);
            }
        } catch (NativeFiles.Failure f) {
            throw new IllegalStateException(f);
        }
    }

    private static void chown(Path p, int uid) {
        try {
            Files.setAttribute(p, "unix:uid", uid);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void chown(Path p, int uid, String mode) {
        chown(p, uid);
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void leftoversOfRunsThatAreOverAreGivenBackBeforeTheFileIsLentAgain() throws Exception {
        Path base = rootFile("base.img", "rw-------");
        Path kernel = rootFile("bzImage", "rw-r--r--");
        // lent by a run of an earlier boot, never given back (the host died): still nobody's, mode 0600
        set(base, Lender.OWNER, "0:0:640");
        set(base, Lender.REFS, "old@" + DacSecurityDriver.managerId(state) + "@00000000\n");
        chown(base, NOBODY);
        prepare(def("vm1", kernel.toString(), disk(base, true)));
        assertEquals(NOBODY + ":" + NOBODY + ":640", owner(base), "lent again, from its true owner and mode");
        assertEquals("0:0:640:" + Files.getAttribute(base, "unix:ino"), xattr(base, Lender.OWNER));
        security.restore(state, "vm1");
        assertEquals("0:0:640", owner(base), "the original owner and mode, not the leftover ones");

        // another manager's live run on the same host is not ours to end
        set(base, Lender.OWNER, "0:0:640");
        set(base, Lender.REFS, "other@0badcafe@" + BOOT + "\n");
        chown(base, NOBODY);
        prepare(def("vm1", kernel.toString(), disk(base, true)));
        security.restore(state, "vm1");
        assertEquals(NOBODY + ":0:640", owner(base), "still lent to the other manager's run");
        assertEquals("other@0badcafe@" + BOOT + "\n", xattr(base, Lender.REFS));
    }

    @Test
    void aCopyOfALentFileTakesNothingFromItsMarks() throws Exception {
        Path kernel = rootFile("bzImage", "rw-r--r--");
        Path base = rootFile("base.img", "rw-------");
        prepare(def("vm1", kernel.toString(), disk(base, false)));
        // cp -a as root: the copy gets the lent owner and the trusted attributes
        Path copy = images.resolve("copy.img");
        Files.copy(base, copy, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        assertEquals(xattr(base, Lender.REFS), xattr(copy, Lender.REFS), "the attributes came along");
        chown(copy, 0, "rw-------");
        Files.setAttribute(copy, "unix:gid", 0);
        assertEquals(List.of(copy.toString()), prepare(def("vm2", kernel.toString(), disk(copy, false))).lent(),
                "the copy is lent on its own, not taken for vm1's file");
        security.restore(state, "vm2");
        assertEquals("0:0:600", owner(copy));
        assertNull(xattr(copy, Lender.REFS));
        assertEquals(NOBODY + ":" + NOBODY + ":600", owner(base), "vm1's file untouched");
        security.restore(state, "vm1");
        assertEquals("0:0:600", owner(base));
    }

    @Test
    void directoriesOnTheWayAreNeverLentAndTheStartSaysWhichOne() throws Exception {
        Path closed = Files.createDirectories(images.resolve("closed"));
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        Path kernel = Files.writeString(closed.resolve("bzImage"), "k");
        Files.setPosixFilePermissions(kernel, PosixFilePermissions.fromString("rw-------"));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> prepare(def("vm1", kernel.toString())));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        assertEquals("kernel " + kernel + " cannot be lent to uid 65534: directory " + closed + " denies it search "
                + "permission (the manager lends files, never directories: give uid 65534 search permission on it)", e.getMessage());
        assertEquals("0:0:600", owner(kernel), "nothing changed");
        assertFalse(Files.exists(state.resolve("vm1")), "nothing recorded");
    }

    @Test
    void nineP_SourcesAreCheckedAsTheUserAndNeverChanged() throws Exception {
        Path kernel = rootFile("bzImage", "rw-r--r--");
        Path share = Files.createDirectories(images.resolve("share"));
        Files.setPosixFilePermissions(share, PosixFilePermissions.fromString("rwx--x---"));
        DomainDefinition d = def("vm1", kernel.toString(), List.of(new DomainDefinition.Filesystem(share.toString(), "tag")));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> prepare(d));
        assertEquals("9p source directory " + share + " cannot be used by uid 65534: " + share + " denies it read and "
                + "search permission (shared directories are never lent: give uid 65534 access yourself)", e.getMessage());
        Path inner = Files.createDirectories(share.resolve("inner"));
        Files.setPosixFilePermissions(inner, PosixFilePermissions.fromString("rwxr-xr-x"));
        KvmtoolException deeper = assertThrows(KvmtoolException.class, () -> prepare(
                def("vm1", kernel.toString(), List.of(new DomainDefinition.Filesystem(inner.toString(), "tag")))));
        assertTrue(deeper.getMessage().endsWith(share + " denies it search permission (shared directories are never lent: "
                + "give uid 65534 access yourself)"), deeper.getMessage());
        assertEquals("0:0:710", owner(share), "never chowned");
        Files.setPosixFilePermissions(share, PosixFilePermissions.fromString("rwxr-xr-x"));
        prepare(d);
        security.restore(state, "vm1");
    }

    @Test
    void whatCannotBeLentIsNamedAndNothingStaysLent() throws Exception {
        Path kernel = rootFile("bzImage", "rw-------");
        Path fifo = images.resolve("fifo");
        assertEquals(0, run("mkfifo", "-m", "600", fifo.toString()));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> prepare(def("vm1", kernel.toString(), disk(fifo, false))));
        assertEquals("disk " + fifo + " cannot be lent to uid 65534: it is a FIFO, not a regular file or block device", e.getMessage());
        assertEquals("0:0:600", owner(kernel), "the kernel lent before it was given back");
        assertNull(xattr(kernel, Lender.REFS));
        assertFalse(Files.exists(state.resolve("vm1")));

        Path dir = Files.createDirectories(images.resolve("dir"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        assertEquals("kernel " + dir + " cannot be lent to uid 65534: it is a directory, not a regular file or block device",
                assertThrows(KvmtoolException.class, () -> prepare(def("vm1", dir.toString()))).getMessage());

        assertEquals("kernel " + images.resolve("none") + ": No such file or directory",
                assertThrows(KvmtoolException.class, () -> prepare(def("vm1", images.resolve("none").toString()))).getMessage());
    }

    @Test
    void aFileOnAReadOnlyFileSystemIsRefusedNamingIt() throws Exception {
        Path mnt = Files.createDirectories(tmp.resolve("ro"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=1m,mode=755", "tmpfs", mnt.toString()) == 0, "cannot mount a tmpfs");
        mounts.add(mnt);
        Path kernel = Files.writeString(mnt.resolve("bzImage"), "k");
        Files.setPosixFilePermissions(kernel, PosixFilePermissions.fromString("rw-------"));
        assertEquals(0, run("mount", "-o", "remount,ro", mnt.toString()));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> prepare(def("vm1", kernel.toString())));
        assertEquals("kernel " + kernel + " cannot be lent to uid 65534: its file system is mounted read-only, so its "
                + "owner cannot change (make it readable by uid 65534)", e.getMessage());
        assertFalse(Files.exists(state.resolve("vm1")), "given back (nothing) and forgotten");
    }

    @Test
    void withoutDynamicOwnershipOrInSessionModeNothingIsLentButImagesAreLocked() throws Exception {
        Path kernel = rootFile("bzImage", "rw-------");
        Path image = rootFile("root.img", "rw-------");
        DomainDefinition d = def("vm1", kernel.toString(), disk(image, false));
        for (SecurityDriver.Lease l : List.of(new DacSecurityDriver(false, BOOT).prepare(state, d, NOBODY, NOBODY, List.of()),
                security.prepare(state, d, -1, -1, List.of()))) {
            assertEquals(List.of(), l.lent());
            assertEquals(List.of(new ImageLock("disk", image.toString(), true)), l.locks());
        }
        assertEquals("0:0:600", owner(kernel));
        assertFalse(Files.exists(state.resolve("vm1")));
    }

    @Test
    void aSymlinkedImageIsLentThroughItsTarget() throws Exception {
        Path target = rootFile("v2.img", "rw-------");
        Path link = Files.createSymbolicLink(images.resolve("current.img"), target);
        Path kernel = rootFile("bzImage", "rw-r--r--");
        assertEquals(List.of(target.toString()), prepare(def("vm1", kernel.toString(), disk(link, false))).lent());
        assertEquals(NOBODY + ":" + NOBODY + ":600", owner(target));
        security.restore(state, "vm1");
        assertEquals("0:0:600", owner(target));
    }
}
