package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.InterfaceStats;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.StateReason;
import org.kvmtool.manager.network.HostNet;

/**
 * Bridged guests on the real services, as root in system mode (lkvm as an unprivileged user), with a real bridge
 * and the taps the manager makes: the tap is on its bridge while the guest runs and gone after, however the run
 * ends; a reattach keeps it; an activation that finds the guest dead removes it. lkvm is the stand-in, or the
 * real one when KVMTOOL_LKVM names it. What needs lkvm to hold its tap (the carrier, the counters) is checked
 * when lkvm does: the real lkvm must; a stand-in that does not open its tap as lkvm does skips those checks,
 * saying so.
 */
class NetworkScenariosTest {
    @TempDir
    Path tmp;
    @RegisterExtension
    final HostNet net = new HostNet();
    SystemModeHost sys;
    RealHost h;
    String bridge;

    @BeforeEach
    void setUp() throws Exception {
        sys = new SystemModeHost(tmp, "kvmtool-net");
        h = sys.h;
        net.removeTapsOf(sys.run + "/");
        bridge = net.bridge(1450);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (sys != null) {
            sys.close();
        }
    }

    private String bridged(String name, String... extra) {
        return RealHost.xml(name, extra).replace("<devices>", "<devices><interface type='bridge'><source bridge='" + bridge
                + "'/><model type='virtio'/></interface>");
    }

    private String tapOf(KvmtoolDriver driver, String name) {
        List<InterfaceStats> stats = driver.interfaceStats(name);
        assertEquals(1, stats.size());
        return stats.get(0).device();
    }

    /** The tap is made as it must be for lkvm: on the bridge, lkvm's user's, up, with the bridge's MTU. */
    private void assertOnBridge(String tap) throws Exception {
        assertTrue(tap.matches("kvmtap\\d+"), tap);
        assertEquals(bridge, HostNet.master(tap), tap + " on its bridge");
        int uid = SystemModeHost.user().uid();
        assertEquals(Integer.toString(uid), HostNet.read(tap, "owner"), "lkvm's user owns " + tap);
        assertEquals(1, Integer.decode(HostNet.read(tap, "flags")) & 1, tap + " is up");
        assertEquals("1450", HostNet.read(tap, "mtu"));
    }

    private static void awaitGone(String tap) {
        Fixture.await(tap + " removed", () -> !HostNet.exists(tap));
    }

    /** Whether lkvm (pid) holds the tap open: a tun descriptor's fdinfo names its device. */
    private static boolean holds(long pid, String tap) throws IOException {
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fdinfo"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readAllLines(fd).contains("iff:\t" + tap)) {
                        return true;
                    }
                } catch (IOException closed) {
                    // closed meanwhile
                }
            }
        }
        return false;
    }

    /** The real lkvm must hold its tap; the stand-in holds it only once it opens taps as lkvm does. */
    private static void requireHeld(long pid, String tap) throws IOException {
        boolean held = holds(pid, tap);
        if (SystemModeHost.real()) {
            assertTrue(held, "lkvm " + pid + " holds " + tap);
        }
        assumeTrue(held, "the stand-in does not open its tap (as lkvm does) yet: run with KVMTOOL_LKVM for these checks");
    }

    @Test
    void theTapIsOnItsBridgeWhileTheGuestRunsAndGoneAfterDestroyPoweroffCrashAndAFailedStart() throws Exception {
        KvmtoolDriver driver = h.activate();
        driver.define(bridged("g"));

        driver.start("g");
        String tap = tapOf(driver, "g");
        assertOnBridge(tap);
        assertTrue(driver.dumpXml("g").contains("<target dev=\"" + tap + "\"/>"), "the live definition names the tap");
        driver.destroy("g");
        assertFalse(HostNet.exists(tap), "destroy removed " + tap);
        assertFalse(driver.dumpXml("g").contains("<target dev="), "the persistent definition names none");

        driver.start("g");
        tap = tapOf(driver, "g");
        assertOnBridge(tap);
        driver.sendConsole("g", "q"); // the test guest powers off
        Fixture.await("poweroff", () -> driver.lookup("g").orElseThrow().reason() == StateReason.SHUTDOWN);
        awaitGone(tap);

        driver.start("g");
        tap = tapOf(driver, "g");
        assertOnBridge(tap);
        Mounts.run("kill", "-9", Long.toString(driver.lookup("g").orElseThrow().pid()));
        Fixture.await("crash", () -> driver.lookup("g").orElseThrow().reason() == StateReason.CRASHED);
        awaitGone(tap);

        // lkvm fails after the manager made the tap (a disk image that is not there): the rollback removes it
        driver.define(bridged("bad", "").replace("<devices>", "<devices><disk type='file'><source file='"
                + tmp.resolve("missing.img") + "'/><target dev='vda'/></disk>"));
        KvmtoolException failed = assertThrows(KvmtoolException.class, () -> driver.start("bad"));
        assertEquals(StateReason.FAILED, driver.lookup("bad").orElseThrow().reason(), failed.getMessage());
        assertEquals(List.of(), taps(), "no tap left behind by the failed start");
        assertEquals(List.of(), h.leftovers());
    }

    @Test
    void aReattachKeepsTheTapAndAnActivationThatFindsTheGuestDeadRemovesIt() throws Exception {
        KvmtoolDriver driver = h.activate();
        driver.define(bridged("keep"));
        driver.define(bridged("lost"));
        driver.start("keep");
        driver.start("lost");
        String kept = tapOf(driver, "keep");
        String lost = tapOf(driver, "lost");
        long lostPid = driver.lookup("lost").orElseThrow().pid();
        driver.deactivate();
        Mounts.run("kill", "-9", Long.toString(lostPid));
        // ended, every thread of it (nobody reaps it while no driver runs: its leader stays a zombie)
        Fixture.await("lkvm " + lostPid + " ended", () -> {
            try (var tasks = Files.list(Path.of("/proc/" + lostPid + "/task"))) {
                return tasks.count() <= 1 && Files.readString(Path.of("/proc/" + lostPid + "/stat")).contains(") Z ");
            } catch (IOException gone) {
                return true;
            }
        });

        KvmtoolDriver next = h.activate();
        assertEquals(new Reattacher.Result(1, 1), next.reattached());
        assertEquals(StateReason.CRASHED, next.lookup("lost").orElseThrow().reason());
        assertFalse(HostNet.exists(lost), "the dead guest's tap is removed at activation");
        assertEquals(kept, tapOf(next, "keep"), "the living guest keeps its tap");
        assertOnBridge(kept);
        next.destroy("keep");
        assertFalse(HostNet.exists(kept));
    }

    @Test
    void lkvmHoldsItsTapAndTheCountersMove() throws Exception {
        KvmtoolDriver driver = h.activate();
        driver.define(bridged("c"));
        driver.start("c");
        String tap = tapOf(driver, "c");
        requireHeld(driver.lookup("c").orElseThrow().pid(), tap);
        Fixture.await(tap + " has a carrier", () -> "up".equals(HostNet.read(tap, "operstate")));
        // the test guest has no network driver, so lkvm reads nothing from its tap: of what the bridge sends, the
        // tap queues 1000 frames (its txqueuelen) and drops the rest, which the guest's rx_drop counts
        HostNet.traffic(tap, bridge, "1200", "--flood-only");
        InterfaceStats s = driver.interfaceStats("c").get(0);
        System.out.println("FIGURE counters of " + tap + " after 1200 frames from the bridge: " + s);
        assertTrue(s.rxPackets() + s.rxDrop() >= 150, "the bridge's frames reached the guest's side: " + s);
        driver.destroy("c");
        assertFalse(HostNet.exists(tap));
    }

    @Test
    void sessionModeRefusesToMakeTaps() throws Exception {
        h.settings = new DriverSettings(DriverSettings.SESSION_URI, false, h.settings.lkvmBinary(), tmp.resolve("etc"),
                tmp.resolve("srun"), tmp.resolve("log"), h.settings.cgroupParent(), SystemModeHost.USER, h.settings.shutdownTimeout(), 1 << 20,
                h.settings.jobWaitTimeout(), h.settings.readyTimeout(), h.settings.destroyGrace(), h.settings.ipcTimeout());
        KvmtoolDriver driver = h.activate();
        driver.define(bridged("s"));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("s"));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, e.code());
        assertTrue(e.getMessage().startsWith("domain 's', interface 1: kvmtool:///session cannot make taps"), e.getMessage());
        assertEquals(List.of(), taps());
        assertEquals(List.of(), h.leftovers());
    }

    /**
     * vsock needs the host's /dev/vhost-vsock: without it the start is refused before anything is made; with it
     * two guests get two CIDs from 3 up that lkvm is given.
     */
    @Test
    void vsockGuestsGetFreeCidsOrAClearRefusal() throws Exception {
        KvmtoolDriver driver = h.activate();
        String vsock = "<devices><vsock model='virtio'><cid auto='yes'/></vsock>";
        driver.define(RealHost.xml("v1").replace("<devices>", vsock));
        driver.define(RealHost.xml("v2").replace("<devices>", vsock));
        if (!Files.exists(Path.of("/dev/vhost-vsock"))) {
            KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("v1"));
            assertEquals(ErrorCode.CONFIG_UNSUPPORTED, e.code());
            assertEquals("domain 'v1' has a vsock, but this host has no /dev/vhost-vsock (load the vhost_vsock module)", e.getMessage());
            assertFalse(driver.lookup("v1").orElseThrow().isActive());
            assertEquals(List.of(), h.leftovers());
            return;
        }
        driver.start("v1");
        driver.start("v2");
        List<Long> cids = new java.util.ArrayList<>();
        for (String n : List.of("v1", "v2")) {
            List<String> argv = List.of(Files.readString(Path.of("/proc/" + driver.lookup(n).orElseThrow().pid() + "/cmdline")).split("\0"));
            long cid = Long.parseLong(argv.get(argv.indexOf("--vsock") + 1));
            assertTrue(driver.dumpXml(n).contains("<cid auto=\"yes\" address=\"" + cid + "\"/>"), driver.dumpXml(n));
            cids.add(cid);
        }
        assertTrue(cids.get(0) >= 3 && cids.get(1) >= 3 && !cids.get(0).equals(cids.get(1)), cids.toString());
    }

    /** The taps on this test's bridge. */
    private List<String> taps() throws IOException {
        Path ports = HostNet.SYS.resolve(bridge).resolve("brif");
        try (var l = Files.list(ports)) {
            return l.map(p -> p.getFileName().toString()).toList();
        }
    }
}
