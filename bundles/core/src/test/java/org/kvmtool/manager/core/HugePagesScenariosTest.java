package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * A guest on hugepages, on the real services as root in system mode: a hugetlbfs the test mounts and a pool of
 * 16 huge pages (2 MiB) it lends the kernel for the test (both given back after). lkvm gets a directory on the
 * hugetlbfs that is its user's; with the real lkvm (KVMTOOL_LKVM) the guest's RAM is seen taken from the pool.
 */
class HugePagesScenariosTest {
    private static final Path NR_HUGEPAGES = Path.of("/proc/sys/vm/nr_hugepages");
    private static final int PAGES = 16;

    @TempDir
    Path tmp;
    SystemModeHost sys;
    Path huge;
    String savedPool;
    boolean mounted;

    @BeforeEach
    void setUp() throws Exception {
        sys = new SystemModeHost(tmp, "kvmtool-huge");
        assumeTrue(Mounts.canMount(), "needs mount(8)");
        huge = Files.createDirectories(tmp.resolve("huge"));
        assumeTrue(Mounts.run("mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "hugetlbfs", huge.toString()) == 0,
                "the kernel has no hugetlbfs with 2 MiB pages");
        mounted = true;
        savedPool = Files.readString(NR_HUGEPAGES).trim();
        Files.writeString(NR_HUGEPAGES, Integer.toString(Integer.parseInt(savedPool) + PAGES));
        assumeTrue(meminfo("HugePages_Free:") >= PAGES, "the kernel could not give " + PAGES + " huge pages");
        sys.h.settings = sys.h.settings.withHugetlbfsMount(huge);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (sys != null) {
                sys.close();
            }
        } finally {
            if (mounted) {
                Mounts.run("umount", huge.toString());
            }
            if (savedPool != null) {
                Files.writeString(NR_HUGEPAGES, savedPool);
            }
        }
    }

    private static long meminfo(String key) throws Exception {
        return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith(key))
                .mapToLong(l -> Long.parseLong(l.substring(key.length()).trim().split("\\s+")[0])).findFirst().orElseThrow();
    }

    private static String onHugepages(String name, int mib) {
        return RealHost.xml(name, "<memoryBacking><hugepages/></memoryBacking>").replace(">64<", ">" + mib + "<");
    }

    @Test
    void aGuestRunsOnTheHugetlbfsAndOneTheRestOfThePoolCannotHoldIsRefused() throws Exception {
        KvmtoolDriver driver = sys.h.activate();
        driver.define(onHugepages("h1", 32));
        long before = meminfo("HugePages_Free:") - meminfo("HugePages_Rsvd:");
        driver.start("h1");
        long pid = driver.lookup("h1").orElseThrow().pid();
        List<String> argv = List.of(Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        Path dir = huge.resolve("kvmtool-manager");
        assertEquals(dir.toString(), argv.get(argv.indexOf("--hugetlbfs") + 1));
        assertEquals(SystemModeHost.user().uid(), Files.getAttribute(dir, "unix:uid"), "lkvm's user's directory");
        assertEquals(PosixFilePermissions.fromString("rwx------"), Files.getPosixFilePermissions(dir));
        driver.sendConsole("h1", "hi");
        Fixture.await("echo", () -> driver.consoleLog("h1", 1000).contains("hi"));
        if (SystemModeHost.real()) {
            long during = meminfo("HugePages_Free:") - meminfo("HugePages_Rsvd:");
            assertEquals(PAGES, before - during, "lkvm's 32 MiB of guest RAM are 16 huge pages of the pool");
        }

        driver.define(onHugepages("h2", 64));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("h2"));
        assertEquals(ErrorCode.OPERATION_FAILED, e.code());
        assertTrue(e.getMessage().startsWith("domain 'h2' needs 32 huge pages of 2048 KiB from " + huge + ", but the host has "),
                e.getMessage());
        assertEquals(List.of(), sys.h.leftovers());
        driver.destroy("h1");
        Fixture.await("the pool back", () -> {
            try {
                return meminfo("HugePages_Free:") - meminfo("HugePages_Rsvd:") == before;
            } catch (Exception x) {
                throw new AssertionError(x);
            }
        });
    }

    @Test
    void aHugetlbfsMountThatIsNoneIsRefused() throws Exception {
        sys.h.settings = sys.h.settings.withHugetlbfsMount(tmp.resolve("plain"));
        KvmtoolDriver driver = sys.h.activate();
        driver.define(onHugepages("h3", 32));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("h3"));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, e.code());
        assertEquals("domain 'h3' wants hugepages (<memoryBacking><hugepages/>), but hugetlbfs.mount " + tmp.resolve("plain")
                + " is on no hugetlbfs mount", e.getMessage());
    }
}
