package org.kvmtool.manager.launch;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.ExitInfo;
import org.kvmtool.manager.api.ImageLock;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.SpawnRequest;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pure parts: parsers, wire layouts, decisions. */
class PureFunctionsTest {
    @Test
    void statParsingSurvivesACommWithSpacesAndParentheses() {
        String stat = "4242 (lk (vm) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 7 0 987654 1000 10";
        ProcFs.Snapshot s = ProcFs.parse(stat, "/usr/bin/lkvm\0run\0--name\0vm 1\0".getBytes(StandardCharsets.UTF_8));
        assertEquals('S', s.state());
        assertEquals(987654L, s.startTime());
        assertEquals(List.of("/usr/bin/lkvm", "run", "--name", "vm 1"), s.cmdline());
        assertTrue(ProcFs.parse(stat.replace(") S ", ") Z "), new byte[0]).zombie());
        assertEquals(List.of(), ProcFs.parse(stat, new byte[0]).cmdline());
    }

    @Test
    void inputFilesAreTheKernelInitrdFirmwareDisksAndShares() {
        InputFiles f = InputFiles.of(List.of("/usr/bin/lkvm", "run", "--name", "vm", "-k", "/k/bzImage",
                "-i", "/k/initrd", "-d", "/img/root.img", "-d", "/img/data.img,ro,direct", "--9p", "/srv/share,tag",
                "--firmware=/fw/bios.bin", "-p", "root=/dev/vda", "-m", "64"));
        assertEquals(List.of("kernel=/k/bzImage", "initrd=/k/initrd", "disk=/img/data.img", "9p-share=/srv/share",
                "firmware=/fw/bios.bin"), f.readable());
        assertEquals(List.of("disk=/img/root.img"), f.writable());
        assertEquals(new InputFiles(List.of(), List.of()), InputFiles.of(List.of("/bin/sleep", "-k")));
    }

    @Test
    void helperArgvCarriesCgroupsUserAndFilesBeforeTheProgram() {
        SpawnRequest r = new SpawnRequest(List.of("/usr/bin/lkvm", "run", "-k", "/k"), "/run/kvmtool/vm", 5,
                List.of("/sys/fs/cgroup/pids/vm/cgroup.procs"), 107, 108, List.of(36, 5));
        assertEquals(List.of("/x/kvmtool-exec", "-c", "/sys/fs/cgroup/pids/vm/cgroup.procs", "-G", "36,5",
                "-g", "108", "-u", "107", "-r", "kernel=/k", "--", "/usr/bin/lkvm", "run", "-k", "/k"),
                PosixProcessSpawner.helperArgv("/x/kvmtool-exec", r));
        SpawnRequest session = new SpawnRequest(List.of("/usr/bin/lkvm"), "/h", 5, List.of(), -1, -1, List.of());
        assertEquals(List.of("/x/kvmtool-exec", "--", "/usr/bin/lkvm"),
                PosixProcessSpawner.helperArgv("/x/kvmtool-exec", session));
    }

    @Test
    void helperReportsBecomeMessagesThatSayWhich() {
        Map<Integer, String> texts = Map.of(2, "No such file or directory", 13, "Permission denied",
                1, "Operation not permitted", 8, "Exec format error");
        assertEquals("binary not found: /usr/bin/lkvm", message("exec\t2\t/usr/bin/lkvm\n", texts));
        assertEquals("binary is not executable: /x", message("exec\t13\t/x\n", texts));
        assertEquals("not an executable file: /x", message("exec\t8\t/x\n", texts));
        assertEquals("cannot join cgroup /cg/cgroup.procs: Operation not permitted",
                message("cgroup\t1\t/cg/cgroup.procs\n", texts));
        assertEquals("cannot run as uid 107 gid 108 (setuid): Operation not permitted",
                message("setuid\t1\t\n", texts));
        assertEquals("cannot enter the home directory /run/x as uid 107: Permission denied",
                message("chdir\t13\t/run/x\n", texts));
        assertEquals("kernel /k: Permission denied (for uid 107)", message("file\t13\tkernel /k\n", texts));
        assertEquals("the exec helper failed: garbage", message("garbage\n", texts));
        KvmtoolException e = HelperFailure.toException("exec\t2\t/x", -1, -1, texts::get);
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
    }

    @Test
    void helperArgvAsksForTheImageLocksAfterTheFileChecks() {
        SpawnRequest r = new SpawnRequest(List.of("/usr/bin/lkvm", "run", "-d", "/img/a", "-d", "/img/b,ro"), "/h", 5,
                List.of(), -1, -1, List.of(), List.of(new ImageLock("disk", "/img/a", true), new ImageLock("disk", "/img/b", false)));
        assertEquals(List.of("/x/kvmtool-exec", "-r", "disk=/img/b", "-w", "disk=/img/a", "-x", "disk=/img/a",
                "-s", "disk=/img/b", "--", "/usr/bin/lkvm", "run", "-d", "/img/a", "-d", "/img/b,ro"),
                PosixProcessSpawner.helperArgv("/x/kvmtool-exec", r));
    }

    @Test
    void theLockTableGivesTheHoldersOfOneInode() {
        String locks = "1: FLOCK  ADVISORY  WRITE 4242 fe:01:1234 0 EOF\n"
                + "1: -> FLOCK  ADVISORY  WRITE 4343 fe:01:1234 0 EOF\n"
                + "2: POSIX  ADVISORY  WRITE 77 fe:01:1234 0 EOF\n"
                + "3: FLOCK  ADVISORY  READ 4444 fe:01:1234 0 EOF\n"
                + "4: FLOCK  ADVISORY  WRITE 55 fe:01:999 0 EOF\n"
                + "5: OFDLCK ADVISORY  READ -1 00:2a:1234 0 EOF\n";
        List<long[]> held = LockHolders.parse(locks, 0xfe, 1, 1234);
        assertEquals(2, held.size(), "a waiter, a POSIX lock and other inodes are not holders");
        assertArrayEquals(new long[] {4242, 1}, held.get(0));
        assertArrayEquals(new long[] {4444, 0}, held.get(1));
        // glibc's st_dev: 8:1 and a large minor (259:65536)
        assertEquals(8, LockHolders.major(0x801L));
        assertEquals(1, LockHolders.minor(0x801L));
        long big = (259L << 8) | (65536L & 0xff) | ((65536L & ~0xffL) << 12);
        assertEquals(259, LockHolders.major(big));
        assertEquals(65536, LockHolders.minor(big));
        assertEquals("vm1", LockHolders.domainOf(List.of("/usr/bin/lkvm", "run", "-k", "/k", "--name", "vm1")));
        assertNull(LockHolders.domainOf(List.of("/usr/bin/lkvm", "debug", "--name", "vm1")));
        assertNull(LockHolders.domainOf(List.of("/bin/sleep", "30")));
    }

    @Test
    void aLockRefusalNamesTheImageAndItsHolder() {
        LockHolders.Holder a = new LockHolders.Holder(7, true, "a", "lkvm");
        LockHolders.Holder b = new LockHolders.Holder(8, false, "b", "lkvm");
        LockHolders.Holder c = new LockHolders.Holder(9, false, null, "flock");
        assertEquals("disk /x is in use by domain 'a' (pid 7), which writes it: a second writer would corrupt it",
                HelperFailure.inUse("disk /x", List.of(a), true));
        assertEquals("disk /x is in use by domain 'a' (pid 7), which writes it: it cannot be read while another domain writes it",
                HelperFailure.inUse("disk /x", List.of(a), false));
        assertEquals("disk /x is in use by domain 'b' (pid 8), process 9 (flock), which reads it: it cannot be written while "
                + "another domain reads it", HelperFailure.inUse("disk /x", List.of(b, c), true));
        assertEquals("disk /x is in use: a process not visible from here holds its lock",
                HelperFailure.inUse("disk /x", List.of(), true));
        KvmtoolException e = HelperFailure.toException("lock-ex\t11\tdisk /img/a b.img\n", 107, 108, Map.of(11, "busy")::get,
                path -> path.equals("/img/a b.img") ? List.of(a) : List.of());
        assertEquals(ErrorCode.OPERATION_FAILED, e.code());
        assertEquals("disk /img/a b.img is in use by domain 'a' (pid 7), which writes it: a second writer would corrupt it",
                e.getMessage());
        assertEquals("cannot lock disk /img/a: Permission denied",
                HelperFailure.toException("lock-sh\t13\tdisk /img/a\n", 107, 108, Map.of(13, "Permission denied")::get)
                        .getMessage());
    }

    private static String message(String line, Map<Integer, String> texts) {
        return HelperFailure.toException(line, 107, 108, texts::get).getMessage();
    }

    @Test
    void wireLayoutsAreKvmtools() {
        assertArrayEquals(new byte[] {7, 0, 0, 0, 0, 0, 0, 0}, bytes(IpcWire.request(IpcWire.PID)));
        assertArrayEquals(new byte[] {1, 0, 0, 0, 4, 0, 0, 0, (byte) 0xc0, (byte) 0xff, (byte) 0xff, (byte) 0xff},
                bytes(IpcWire.balloon(-64)));
        assertArrayEquals(new byte[] {2, 0, 0, 0, 12, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 'b', 0, 0, 0},
                bytes(IpcWire.debug(IpcWire.DEBUG_SYSRQ, 0, 'b')));
        assertEquals(1, IpcWire.int32(new byte[] {1, 0, 0, 0}));
        ByteBuffer stats = ByteBuffer.allocate(25).order(ByteOrder.LITTLE_ENDIAN);
        stats.putShort((short) 0).putLong(3).putShort((short) 7).putLong(9).put(new byte[5]);
        assertEquals(Map.of("swap_in", 3L, "disk_caches", 9L), IpcWire.stats(stats.array()), "partial record dropped");
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void exitCausesForChildrenAndAdoptedProcesses() {
        assertEquals(new ExitCause(ExitInfo.Kind.NORMAL, 0, 0), ExitCause.ofChild(true, 0));
        assertEquals(new ExitCause(ExitInfo.Kind.FAILED, 1, 0), ExitCause.ofChild(true, 1));
        assertEquals(new ExitCause(ExitInfo.Kind.SIGNALED, -1, 9), ExitCause.ofChild(false, 9));
        assertEquals(new ExitCause(ExitInfo.Kind.NORMAL, -1, 0), ExitCause.ofAdopted(false));
        assertEquals(new ExitCause(ExitInfo.Kind.SIGNALED, -1, 0), ExitCause.ofAdopted(true));
    }

    @Test
    void probeCandidatesAndVersion() {
        assertEquals(List.of(java.nio.file.Path.of("/opt/lkvm")), HypervisorProbe.candidates(" /opt/lkvm ", "/bin"));
        assertEquals(List.of(java.nio.file.Path.of("/a/lkvm"), java.nio.file.Path.of("/b/lkvm"),
                java.nio.file.Path.of("/usr/bin/lkvm"), java.nio.file.Path.of("/usr/local/bin/lkvm")),
                HypervisorProbe.candidates(null, "/a::relative:/b"));
        assertEquals("3.18.0", HypervisorProbe.parseVersion("kvm tool 3.18.0\n"));
        assertEquals("3.18.0-rc1", HypervisorProbe.parseVersion("  Info: x\nkvm tool 3.18.0-rc1"));
        assertNull(HypervisorProbe.parseVersion("lkvm: command not found"));
    }
}
