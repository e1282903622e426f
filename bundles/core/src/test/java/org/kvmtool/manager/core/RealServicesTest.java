package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.StateReason;

/** The driver with the real services and the lkvm stand-in: real processes, ptys, sockets and cgroups. */
class RealServicesTest {
    @TempDir
    Path tmp;
    RealHost h;
    KvmtoolDriver driver;

    @BeforeEach
    void setUp() throws Exception {
        String why = RealHost.unavailable(tmp);
        assumeTrue(why == null, why);
        h = new RealHost(tmp);
        driver = h.activate();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    private DomainInfo info(String n) {
        return driver.lookup(n).orElseThrow();
    }

    private void awaitReason(String n, StateReason r) {
        Fixture.await(n + " " + r.word(), () -> driver.lookup(n).map(i -> i.reason() == r).orElse(false));
    }

    /** The state changes first; the cleanup that follows (within the same job) takes a moment more. */
    private void awaitNoLeftovers() {
        Fixture.await("no leftovers", () -> {
            try {
                return h.leftovers().isEmpty();
            } catch (java.io.IOException | java.io.UncheckedIOException e) {
                return false; // a directory removed while we looked: the cleanup is still on
            }
        });
    }

    private void awaitConsole(String n, String text) {
        Fixture.await("'" + text.trim() + "' on the console of " + n, () -> driver.consoleLog(n, 4096).contains(text));
    }

    private static String statusLine(long pid, String key) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith(key + ":")) {
                return l.substring(key.length() + 1).trim();
            }
        }
        return null;
    }

    @Test
    void fullLifecycle() throws Exception {
        driver.define(RealHost.xml("vm1"));
        driver.start("vm1");
        DomainInfo i = info("vm1");
        assertEquals(StateReason.BOOTED, i.reason());
        assertTrue(Files.exists(Path.of("/proc/" + i.pid())));
        awaitConsole("vm1", "GUEST READY");
        assertTrue(Files.readString(Path.of("/proc/" + i.pid() + "/cmdline")).contains("--nodefaults"));
        driver.suspend("vm1");
        assertEquals(DomainState.PAUSED, info("vm1").state());
        driver.resume("vm1");
        driver.sendConsole("vm1", "hello");
        awaitConsole("vm1", "hello");
        if (h.services.cgroups().support().usable()) {
            driver.setCpuShares("vm1", 512);
            assertEquals(512, driver.stats("vm1").cpuShares());
            assertTrue(driver.stats("vm1").cpuTimeNanos() >= 0);
        }
        driver.destroy("vm1");
        assertEquals(StateReason.DESTROYED, info("vm1").reason());
        assertFalse(Files.exists(Path.of("/proc/" + i.pid() + "/cmdline")) && Files.readString(Path.of("/proc/" + i.pid() + "/cmdline")).contains("vm1"));
        awaitNoLeftovers();
    }

    @Test
    void shutdownOfALinuxLikeGuestThroughSysrq() throws Exception {
        Path kernel = Files.writeString(tmp.resolve("linux.img"), "KVMTOOL-STANDIN linux\n");
        driver.define(RealHost.xml("lin").replace(RealHost.GUEST, kernel.toString()));
        driver.start("lin");
        awaitConsole("lin", "STANDIN LINUX READY");
        // lkvm hands a SysRq to its guest only with the next console input: the driver sends a byte after
        // each key itself, so the 'b' resets the guest and ends lkvm without anyone typing
        driver.shutdown("lin");
        awaitReason("lin", StateReason.SHUTDOWN); // a normal end after a shutdown request: not crashed
        assertTrue(driver.consoleLog("lin", 4096).contains("Emergency Remount complete"),
                "s and u reached the guest before b");
        awaitNoLeftovers();
    }

    @Test
    void guestPoweroffIsShutoffShutdown() throws Exception {
        driver.define(RealHost.xml("vm1"));
        driver.start("vm1");
        awaitConsole("vm1", "GUEST READY");
        long t0 = System.nanoTime();
        driver.sendConsole("vm1", "q");
        awaitReason("vm1", StateReason.SHUTDOWN);
        System.out.printf("guest poweroff -> shutoff/shutdown seen after %.1f ms%n", (System.nanoTime() - t0) / 1e6);
        awaitConsole("vm1", "GUEST POWEROFF");
        awaitNoLeftovers();
    }

    @Test
    void killMinus9IsCrashedPromptlyAndOnCrashApplies() throws Exception {
        driver.define(RealHost.xml("vm1"));
        driver.define(RealHost.xml("vm2", "<on_crash>restart</on_crash>"));
        driver.start("vm1");
        driver.start("vm2");
        long pid = info("vm1").pid();
        long t0 = System.nanoTime();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL
        awaitReason("vm1", StateReason.CRASHED);
        var crashed = h.events.stream().filter(ev -> ev.name().equals("vm1") && ev.reason() == StateReason.CRASHED).findFirst();
        System.out.printf("kill -9 -> shutoff/crashed: %.1f ms until the driver had it%n", (System.nanoTime() - t0) / 1e6);
        assertTrue(crashed.isPresent() || info("vm1").reason() == StateReason.CRASHED);
        awaitNoLeftovers();

        long pid2 = info("vm2").pid();
        new ProcessBuilder("kill", "-9", Long.toString(pid2)).start().waitFor();
        Fixture.await("vm2 restarted", () -> info("vm2").state() == DomainState.RUNNING && info("vm2").pid() != pid2);
        awaitConsole("vm2", "GUEST READY");
    }

    @Test
    void aPausedGuestIsDestroyed() throws Exception {
        driver.define(RealHost.xml("vm1"));
        driver.start("vm1");
        driver.suspend("vm1");
        long t0 = System.nanoTime();
        driver.destroy("vm1");
        System.out.printf("destroy of a paused guest took %.1f ms%n", (System.nanoTime() - t0) / 1e6);
        assertEquals(StateReason.DESTROYED, info("vm1").reason());
        awaitNoLeftovers();
    }

    @Test
    void aFailingLkvmIsShutoffFailedWithItsOwnWords() throws Exception {
        Path kernel = Files.writeString(tmp.resolve("nocpu.img"), "KVMTOOL-STANDIN fail=cpu\n");
        driver.define(RealHost.xml("vm1").replace(RealHost.GUEST, kernel.toString()));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("vm1"));
        assertTrue(e.getMessage().contains("Your CPU does not support hardware virtualization"), e.getMessage()
                + "; console: " + driver.consoleLog("vm1", 4096));
        assertEquals(StateReason.FAILED, info("vm1").reason());
        awaitNoLeftovers();
    }

    @Test
    void tenGuestsAreAdoptedByANewDriverWithTheirPidsAndConsoles() throws Exception {
        Map<String, Long> pids = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            driver.define(RealHost.xml("g" + i));
            driver.start("g" + i);
            pids.put("g" + i, info("g" + i).pid());
        }
        awaitConsole("g9", "GUEST READY");
        driver.deactivate();
        for (long pid : pids.values()) {
            assertTrue(Files.exists(Path.of("/proc/" + pid)), "deactivation killed nothing");
        }
        long t0 = System.nanoTime();
        driver = h.activate();
        System.out.printf("reattach of 10 guests: %.1f ms%n", (System.nanoTime() - t0) / 1e6);
        assertEquals(new Reattacher.Result(10, 0), driver.reattached());
        for (var e : pids.entrySet()) {
            assertEquals(e.getValue(), info(e.getKey()).pid());
            assertEquals(DomainState.RUNNING, info(e.getKey()).state());
        }
        driver.sendConsole("g3", "again");
        awaitConsole("g3", "again");
        driver.sendConsole("g4", "q");
        awaitReason("g4", StateReason.SHUTDOWN);
        new ProcessBuilder("kill", "-9", Long.toString(pids.get("g5"))).start().waitFor();
        awaitReason("g5", StateReason.CRASHED);
    }

    @Test
    void guestsThatEndedWhileTheDriverWasAway() throws Exception {
        driver.define(RealHost.xml("off"));
        driver.define(RealHost.xml("dead"));
        driver.start("off");
        driver.start("dead");
        awaitConsole("off", "GUEST READY");
        long deadPid = info("dead").pid();
        String socket = h.settings.homeDir(info("dead").id()) + "/.lkvm/dead.sock";
        driver.sendConsole("off", "q");
        awaitReason("off", StateReason.SHUTDOWN);
        driver.start("off");
        awaitConsole("off", "GUEST READY");
        driver.deactivate();
        // while the driver is away: one guest powers off, the other is killed
        Path st = h.settings.statusDir().resolve("off.status");
        DomainStatus off = StatusStore.parse(Files.readString(st));
        Files.writeString(Path.of(off.ptySlave()), "q");
        new ProcessBuilder("kill", "-9", Long.toString(deadPid)).start().waitFor();
        for (long pid : new long[] {deadPid, off.process().pid()}) {
            // ended: gone, or a zombie nobody reaps while the driver is away (its cmdline is empty then)
            Fixture.await("lkvm " + pid + " ended", () -> readQuietly(Path.of("/proc/" + pid + "/cmdline")).isEmpty());
        }
        assertTrue(Files.exists(Path.of(socket)), "a ghost socket");
        driver = h.activate();
        assertEquals(StateReason.SHUTDOWN, info("off").reason());
        assertEquals(StateReason.CRASHED, info("dead").reason());
        assertFalse(Files.exists(Path.of(socket)), "ghost socket cleaned");
        awaitNoLeftovers();
    }

    private static long rssKib(long pid) {
        try {
            return Long.parseLong(statusLine(pid, "VmRSS").replace("kB", "").trim());
        } catch (Exception e) {
            return -1;
        }
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "";
        }
    }

    @Test
    void createIsTransient() throws Exception {
        driver.create(RealHost.xml("t1"));
        assertFalse(info("t1").persistent());
        awaitConsole("t1", "GUEST READY");
        driver.destroy("t1");
        assertTrue(driver.lookup("t1").isEmpty());
        awaitNoLeftovers();
    }

    @Test
    void rebootGivesANewLkvm() throws Exception {
        driver.define(RealHost.xml("vm1"));
        driver.start("vm1");
        long first = info("vm1").pid();
        driver.reboot("vm1");
        assertNotEquals(first, info("vm1").pid());
        assertEquals(DomainState.RUNNING, info("vm1").state());
        awaitConsole("vm1", "GUEST READY");
        assertThrows(KvmtoolException.class, () -> driver.start("vm1"));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.resume("vm1"));
        assertEquals(ErrorCode.OPERATION_INVALID, e.code());
    }

    @Test
    void setMemoryBalloons() throws Exception {
        Path kernel = Files.writeString(tmp.resolve("linux.img"), "KVMTOOL-STANDIN linux\n");
        driver.define(RealHost.xml("vm1").replace(RealHost.GUEST, kernel.toString()));
        driver.start("vm1");
        awaitConsole("vm1", "STANDIN LINUX READY");
        long rss = rssKib(info("vm1").pid());
        driver.setMemory("vm1", 32L << 20);
        assertEquals(32L << 20, info("vm1").currentMemoryBytes());
        // the Linux-like guest gives the inflated pages back: lkvm's resident memory drops by about 32 MiB
        Fixture.await("RSS to drop", () -> rssKib(info("vm1").pid()) < rss - 16 * 1024);
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.setMemory("vm1", 65L << 20));
        assertEquals(ErrorCode.INVALID_ARG, e.code());
    }
}
