package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.InterfaceStats;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.StateReason;
import org.kvmtool.manager.core.fakes.FakeCodec;
import org.kvmtool.manager.core.fakes.FakeHost;

/**
 * Where the driver calls the network service: taps and the vsock CID before lkvm (its argv and the live
 * definition name them), their release on every way a run ends, nothing at a reattach of a live guest, and
 * the orphans at activation. The taps themselves are the network bundle's tests'.
 */
class NetworkWiringTest extends FakeHostTest {
    private static final String BRIDGED = "<interface type='bridge'><source bridge='br0'/><mac address='52:54:00:00:00:01'/></interface>"
            + "<interface type='ethernet'><target dev='ops0' managed='no'/></interface><interface type='user'/>";

    private String home(String name) {
        return f.settings.homeDir(driver.lookup(name).orElseThrow().id()).toString();
    }

    @Test
    void tapsAndTheCidAreMadeBeforeLkvmNamedInTheLiveDefinitionAndReleasedWhenDestroyed() throws Exception {
        driver.define(FakeCodec.xml("vm", BRIDGED, "<vsock model='virtio'><cid auto='yes'/></vsock>"));
        driver.start("vm");
        String home = home("vm");
        assertEquals(List.of("prepare vm " + home + " uid=-1"), calls());
        assertEquals(Map.of("kvmtap0", home), f.network.taps);
        List<String> argv = f.spawner.lastRequest.argv();
        assertEquals(List.of("-n", "mode=tap,tapif=kvmtap0", "-n", "mode=tap,tapif=ops0", "-n", "mode=user", "--vsock", "3"),
                argv.subList(argv.indexOf("-n"), argv.size()));
        String live = driver.dumpXml("vm");
        assertTrue(live.contains("<source bridge='br0'/><mac address='52:54:00:00:00:01'/><target dev='kvmtap0' managed='yes'/>"), live);
        assertTrue(live.contains("<cid auto='yes' address='3'/>"), live);
        assertTrue(Files.readString(f.settings.statusDir().resolve("vm.status")).contains("kvmtap0"),
                "the status file keeps what the run made, for a later manager to remove");

        driver.destroy("vm");
        assertEquals(List.of("prepare vm " + home + " uid=-1", "release " + home + " [kvmtap0]"), calls());
        assertEquals(List.of(), f.leftovers(), "taps and CID released");
        assertFalse(driver.dumpXml("vm").contains("kvmtap0"), "the persistent definition names no tap");
        assertTrue(driver.dumpXml("vm").contains("<cid auto='yes'/>"));
    }

    @Test
    void everyEndOfARunReleasesItsTaps() {
        driver.define(FakeCodec.xml("vm", BRIDGED));
        driver.start("vm");
        f.host.aliveNamed("vm").get(0).exitNormally(); // the guest powers off
        Fixture.await("taps released after poweroff", () -> f.network.taps.isEmpty());
        driver.start("vm");
        f.host.aliveNamed("vm").get(0).kill(9); // lkvm crashes
        Fixture.await("taps released after a crash", () -> f.network.taps.isEmpty()
                && driver.lookup("vm").orElseThrow().reason() == StateReason.CRASHED);
        f.host.nextStartFails("  Fatal: Could not open /dev/kvm");
        KvmtoolException failed = assertThrows(KvmtoolException.class, () -> driver.start("vm"));
        assertTrue(failed.getMessage().contains("Could not open /dev/kvm"), failed.getMessage());
        assertEquals(Map.of(), f.network.taps, "the rollback of a failed start released them");
        assertTrue(f.network.calls.stream().filter(c -> c.startsWith("prepare")).count() == 3);
        Fixture.await("no leftovers", () -> {
            try {
                return f.leftovers().isEmpty();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    @Test
    void aRefusalOfTheServiceIsTheStartsAndLeavesNothing() throws Exception {
        driver.define(FakeCodec.xml("vm", BRIDGED));
        KvmtoolException refusal = new KvmtoolException(ErrorCode.CONFIG_UNSUPPORTED, "domain 'vm', interface 1: session");
        f.network.refuseNext = refusal;
        assertSame(refusal, assertThrows(KvmtoolException.class, () -> driver.start("vm")));
        assertTrue(f.host.alive().isEmpty(), "no lkvm ran");
        assertEquals(List.of(), f.leftovers());
        driver.start("vm"); // and the next start is a start as any
        assertEquals(1, f.network.taps.size());
    }

    @Test
    void aReattachKeepsTheTapsOfTheLivingAndRemovesThoseOfTheDead() throws Exception {
        driver.define(FakeCodec.xml("alive", BRIDGED));
        driver.define(FakeCodec.xml("dead", BRIDGED));
        driver.start("alive");
        driver.start("dead");
        String aliveHome = home("alive");
        String deadHome = home("dead");
        String deadTap = f.network.taps.entrySet().stream().filter(e -> e.getValue().equals(deadHome)).findFirst().orElseThrow().getKey();
        driver.deactivate();
        f.host.aliveNamed("dead").get(0).kill(9);
        f.network.calls.clear();

        driver = f.activate();
        assertEquals(new Reattacher.Result(1, 1), driver.reattached());
        assertTrue(f.network.calls.contains("release " + deadHome + " [" + deadTap + "]"), f.network.calls.toString());
        assertFalse(f.network.taps.containsKey(deadTap));
        assertEquals(1, f.network.taps.size(), "the living guest's tap stays: " + f.network.taps);
        String orphans = f.network.calls.stream().filter(c -> c.startsWith("orphans ")).findFirst().orElseThrow();
        assertTrue(orphans.startsWith("orphans " + f.settings.runDir().resolve("home") + "/ live=[") && orphans.contains(aliveHome),
                "the runs of the status files are live: " + orphans);
        driver.destroy("alive");
        assertEquals(List.of(), f.leftovers());
    }

    @Test
    void tapsOfAStartCutShortBeforeItsStatusFileAreRemovedAtActivation() {
        driver.deactivate();
        String cutShort = f.settings.runDir().resolve("home").resolve("77").toString();
        f.network.taps.put("kvmtap5", cutShort);
        f.network.taps.put("kvmtap6", "/run/another-manager/home/1");
        driver = f.activate();
        assertEquals(Map.of("kvmtap6", "/run/another-manager/home/1"), f.network.taps);
        f.network.taps.clear();
    }

    @Test
    void interfaceStatsAreTheLiveTapsInOrder() {
        driver.define(FakeCodec.xml("vm", BRIDGED));
        KvmtoolException off = assertThrows(KvmtoolException.class, () -> driver.interfaceStats("vm"));
        assertEquals("domain is not running", off.getMessage());
        driver.start("vm");
        List<InterfaceStats> stats = driver.interfaceStats("vm");
        assertEquals(List.of("kvmtap0", "ops0"), stats.stream().map(InterfaceStats::device).toList(), "user-mode has no tap");
        assertEquals("52:54:00:00:00:01", stats.get(0).mac());
    }

    @Test
    void hugepagesGetADirectoryOnTheHugetlbfsChecked() throws Exception {
        Path huge = Files.createDirectories(tmp.resolve("huge"));
        Path proc = Files.createDirectories(tmp.resolve("proc/self"));
        Files.writeString(proc.resolve("mountinfo"), "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
                + "40 22 0:40 / " + huge + " rw,relatime shared:20 - hugetlbfs hugetlbfs rw,pagesize=2M\n");
        meminfo(100);
        driver.define(FakeCodec.xml("big", "<memoryBacking><hugepages/></memoryBacking>"));
        driver.start("big");
        List<String> argv = f.spawner.lastRequest.argv();
        assertEquals(huge.resolve("kvmtool-manager").toString(), argv.get(argv.indexOf("--hugetlbfs") + 1));
        assertTrue(Files.isDirectory(huge.resolve("kvmtool-manager")));
        driver.destroy("big");

        meminfo(31);
        KvmtoolException few = assertThrows(KvmtoolException.class, () -> driver.start("big"));
        assertEquals(ErrorCode.OPERATION_FAILED, few.code());
        assertEquals("domain 'big' needs 32 huge pages of 2048 KiB from " + huge + ", but the host has 31 free "
                + "(raise /proc/sys/vm/nr_hugepages)", few.getMessage());

        driver.define(FakeCodec.xml("odd", "<memoryBacking><hugepages/></memoryBacking>").replace(">64<", ">63<"));
        KvmtoolException odd = assertThrows(KvmtoolException.class, () -> driver.start("odd"));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, odd.code());
        assertEquals("domain 'odd': lkvm maps 63 MiB of guest RAM from " + huge + ", which is not a whole number of its "
                + "2048 KiB pages: give <memory> in multiples of 2048 KiB", odd.getMessage());

        Files.writeString(proc.resolve("mountinfo"), "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n");
        KvmtoolException none = assertThrows(KvmtoolException.class, () -> driver.start("big"));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, none.code());
        assertEquals("domain 'big' wants hugepages (<memoryBacking><hugepages/>), but no hugetlbfs is mounted (mount one, "
                + "e.g. mount -t hugetlbfs hugetlbfs /dev/hugepages, or set hugetlbfs.mount)", none.getMessage());
        assertTrue(f.host.alive().isEmpty());
        assertEquals(List.of(), f.leftovers());
    }

    @Test
    void aConfiguredHugetlbfsMustBeOnOne() throws Exception {
        Path proc = Files.createDirectories(tmp.resolve("proc/self"));
        Files.writeString(proc.resolve("mountinfo"), "40 22 0:40 / /dev/hugepages rw - hugetlbfs hugetlbfs rw,pagesize=2M\n");
        meminfo(100);
        driver.deactivate();
        f.settings = f.settings.withHugetlbfsMount(tmp.resolve("elsewhere"));
        driver = f.activate();
        driver.define(FakeCodec.xml("big", "<memoryBacking><hugepages/></memoryBacking>"));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("big"));
        assertEquals("domain 'big' wants hugepages (<memoryBacking><hugepages/>), but hugetlbfs.mount " + tmp.resolve("elsewhere")
                + " is on no hugetlbfs mount", e.getMessage());
    }

    /** The calls for runs (the orphan sweep of each activation left out). */
    private List<String> calls() {
        return f.network.calls.stream().filter(c -> !c.startsWith("orphans ")).toList();
    }

    private void meminfo(int free) throws Exception {
        Files.writeString(tmp.resolve("proc/meminfo"), "MemTotal: 8000000 kB\nHugePages_Total: " + free + "\nHugePages_Free: "
                + free + "\nHugePages_Rsvd: 0\nHugePages_Surp: 0\nHugepagesize: 2048 kB\n");
    }
}
