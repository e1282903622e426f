package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.SecurityDriver;
import org.kvmtool.manager.api.StateReason;

/**
 * System mode for real (root, lkvm as an unprivileged user, the real services and the stand-in): a kernel and a
 * disk that only root may use (0600) are lent to lkvm's user for the run and have their owner and mode back
 * after it, whichever way it ends; a writable image is locked by the lkvm that writes it.
 */
class RealLendingTest {
    static final String USER = "kvmtool-itest";

    @TempDir
    Path tmp;
    RealHost h;
    Path run;
    Path images;
    Path kernel;
    Path disk;
    int lkvmUid;
    KvmtoolDriver driver;

    @BeforeEach
    void setUp() throws Exception {
        String why = RealHost.unavailable(tmp);
        assumeTrue(why == null, why);
        assumeTrue(RealHost.systemModeUser(USER) != null, "system mode needs root and the user " + USER + " (useradd)");
        h = new RealHost(tmp);
        run = Files.createDirectories(Path.of("/run/kvmtool-lend-" + ProcessHandle.current().pid()));
        h.systemMode(USER, run);
        lkvmUid = LkvmUser.resolve(USER, Path.of("/etc"), Path.of("/dev/kvm")).uid();
        images = Files.createDirectories(tmp.resolve("images"));
        kernel = rootOnly(Files.copy(Path.of(RealHost.GUEST), images.resolve("guest.bin")));
        disk = rootOnly(Files.write(images.resolve("disk.img"), new byte[1 << 20]));
        driver = h.activate();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (h != null) {
            h.close();
        }
        if (run != null) {
            try (var w = Files.walk(run)) {
                w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static Path rootOnly(Path p) throws IOException {
        Files.setAttribute(p, "unix:uid", 0);
        Files.setAttribute(p, "unix:gid", 0);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        return p;
    }

    static String xml(String name, Path kernel, String devices) {
        return "<domain type='kvmtool'><name>" + name + "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                + "<os><type>hvm</type><kernel>" + kernel + "</kernel></os><devices>" + devices
                + "<console type='pty'><target type='serial'/></console></devices></domain>";
    }

    static String disk(Path image, String dev, boolean readOnly) {
        return "<disk type='file' device='disk'><source file='" + image + "'/><target dev='" + dev + "' bus='virtio'/>"
                + (readOnly ? "<readonly/>" : "") + "</disk>";
    }

    private String start(String name, Path k, String devices) {
        driver.define(xml(name, k, devices));
        driver.start(name);
        Fixture.await("GUEST READY on " + name, () -> driver.consoleLog(name, 4096).contains("GUEST READY"));
        return name;
    }

    /** The usual guest: d1 on the root-only kernel and disk, written. Returns its pid. */
    private long startD1() {
        start("d1", kernel, disk(disk, "vda", false));
        return info("d1").pid();
    }

    private DomainInfo info(String n) {
        return driver.lookup(n).orElseThrow();
    }

    static String owner(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:uid,gid,mode");
        return a.get("uid") + ":" + a.get("gid") + ":" + Integer.toOctalString((Integer) a.get("mode") & 07777);
    }

    private void assertLent(Path... files) throws IOException {
        for (Path f : files) {
            assertEquals(lkvmUid, Files.getAttribute(f, "unix:uid"), f + " lent to lkvm's user: " + owner(f));
        }
    }

    /** The state changes first; the give-back follows within the same job. */
    private void awaitGivenBack(Path... files) {
        for (Path f : files) {
            awaitGivenBackOnly(f);
        }
        Fixture.await("no record of lent files left", () -> !Files.exists(h.settings.lentDir())
                || h.settings.lentDir().toFile().list().length == 0);
    }

    /** Owner and mode of one file back, whatever else is still lent. */
    private void awaitGivenBackOnly(Path f) {
        Fixture.await(f + " given back", () -> {
            try {
                return owner(f).equals("0:0:600");
            } catch (IOException e) {
                return false;
            }
        });
    }

    private static void kill9(long pid) throws Exception {
        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
    }

    @Test
    void destroy() throws Exception {
        startD1();
        assertLent(kernel, disk);
        String uid = Files.readAllLines(Path.of("/proc/" + info("d1").pid() + "/status")).stream()
                .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
        assertEquals(Integer.toString(lkvmUid), uid.split("\\s+")[1], "lkvm runs as its user: " + uid);
        driver.destroy("d1");
        awaitGivenBack(kernel, disk);
    }

    @Test
    void guestPoweroff() throws Exception {
        startD1();
        driver.sendConsole("d1", "q");
        Fixture.await("shutdown", () -> info("d1").reason() == StateReason.SHUTDOWN);
        awaitGivenBack(kernel, disk);
    }

    @Test
    void crash() throws Exception {
        kill9(startD1());
        Fixture.await("crashed", () -> info("d1").reason() == StateReason.CRASHED);
        awaitGivenBack(kernel, disk);
    }

    @Test
    void aManagerRestartWithTheGuestRunningKeepsThemLentUntilItEnds() throws Exception {
        long pid = startD1();
        driver.deactivate();
        driver = h.activate();
        assertEquals(pid, info("d1").pid(), "adopted");
        assertLent(kernel, disk);
        driver.destroy("d1");
        awaitGivenBack(kernel, disk);
    }

    @Test
    void aManagerRestartWithTheGuestDeadGivesThemBack() throws Exception {
        long pid = startD1();
        driver.deactivate();
        kill9(pid);
        Fixture.await("lkvm ended", () -> {
            try {
                return Files.readString(Path.of("/proc/" + pid + "/cmdline")).isEmpty();
            } catch (IOException gone) {
                return true;
            }
        });
        assertLent(kernel, disk);
        driver = h.activate();
        assertEquals(StateReason.CRASHED, info("d1").reason());
        awaitGivenBack(kernel, disk);
    }

    /** The manager killed after lending and before the status file: nothing runs, the record alone says what. */
    @Test
    void aStartCutBeforeItsStatusFileIsGivenBackAtActivation() throws Exception {
        driver.define(xml("d1", kernel, disk(disk, "vda", false)));
        driver.deactivate();
        h.services.security().prepare(h.settings.lentDir(), h.services.codec().parse(driver.dumpXml("d1")), lkvmUid,
                lkvmUid, List.of());
        assertLent(kernel, disk);
        driver = h.activate();
        awaitGivenBack(kernel, disk);
    }

    @Test
    void aFailedStartGivesBackAndASecondWriterIsRefusedNamingImageAndHolder() throws Exception {
        start("a", kernel, disk(disk, "vda", false));
        Path kernelB = rootOnly(Files.copy(Path.of(RealHost.GUEST), images.resolve("guest-b.bin")));
        driver.define(xml("b", kernelB, disk(disk, "vda", false)));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("b"));
        assertEquals(ErrorCode.OPERATION_FAILED, e.code(), e.getMessage());
        assertEquals("disk " + disk + " is in use by domain 'a' (pid " + info("a").pid() + "), which writes it: "
                + "a second writer would corrupt it", e.getMessage());
        assertEquals(StateReason.FAILED, info("b").reason());
        awaitGivenBackOnly(kernelB);
        assertLent(kernel, disk);
        driver.define(xml("c", kernelB, disk(disk, "vda", true)));
        assertEquals("disk " + disk + " is in use by domain 'a' (pid " + info("a").pid() + "), which writes it: "
                + "it cannot be read while another domain writes it",
                assertThrows(KvmtoolException.class, () -> driver.start("c")).getMessage());
        driver.destroy("a");
        awaitGivenBack(kernel, disk, kernelB);
    }

    @Test
    void readOnlySharingWorksAndTheLastOneGivesBack() throws Exception {
        start("r1", kernel, disk(disk, "vda", true));
        start("r2", kernel, disk(disk, "vda", true));
        assertLent(kernel, disk);
        driver.define(xml("w", kernel, disk(disk, "vda", false)));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("w"));
        assertTrue(e.getMessage().endsWith("which reads it: it cannot be written while another domain reads it"), e.getMessage());
        driver.destroy("r1");
        assertLent(kernel, disk);
        assertEquals(lkvmUid, Files.getAttribute(disk, "unix:uid"), "r2 still runs on it");
        driver.destroy("r2");
        awaitGivenBack(kernel, disk);
    }

    @Test
    void theLockDiesWithLkvm() throws Exception {
        start("a", kernel, disk(disk, "vda", false));
        long pid = info("a").pid();
        kill9(pid);
        Fixture.await("crashed", () -> info("a").reason() == StateReason.CRASHED);
        start("b", kernel, disk(disk, "vda", false));
        assertLent(kernel, disk);
        driver.destroy("b");
        awaitGivenBack(kernel, disk);
    }

    @Test
    void withoutDynamicOwnershipTheUserIsToldAsBefore() throws Exception {
        driver.deactivate();
        Services off = new Services(h.services.codec(), h.services.hypervisor(), h.services.spawner(), h.services.exits(),
                h.services.control(), h.services.cgroups(), h.services.console(), (SecurityDriver) RealServices.component(
                        "org.kvmtool.manager.security.DacSecurityDriver", Map.of("dynamic__ownership", false)),
                h.services.network());
        driver = h.activate(h.settings, off);
        driver.define(xml("d1", kernel, disk(disk, "vda", false)));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("d1"));
        assertEquals("kernel " + kernel + ": Permission denied (for uid " + lkvmUid + ")", e.getMessage());
        assertEquals("0:0:600", owner(kernel));
    }

    @Test
    void aNinePDirectoryTheUserCannotSearchRefusesTheStart() throws Exception {
        Path share = Files.createDirectories(tmp.resolve("share"));
        Files.setPosixFilePermissions(share, PosixFilePermissions.fromString("rwx------"));
        driver.define(xml("d1", kernel, "<filesystem type='mount' accessmode='passthrough'><source dir='" + share
                + "'/><target dir='tag'/></filesystem>"));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("d1"));
        assertEquals("9p source directory " + share + " cannot be used by uid " + lkvmUid + ": " + share + " denies it "
                + "read and search permission (shared directories are never lent: give uid " + lkvmUid + " access yourself)",
                e.getMessage());
        assertEquals("0:0:700", owner(share));
        assertEquals("0:0:600", owner(kernel), "nothing was lent");
    }
}
