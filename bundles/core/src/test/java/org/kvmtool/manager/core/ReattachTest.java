package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.StateReason;
import org.kvmtool.manager.core.fakes.FakeCodec;
import org.kvmtool.manager.core.fakes.FakeHost;

class ReattachTest extends FakeHostTest {
    private Map<String, Long> startTen() {
        Map<String, Long> pids = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            String n = "vm" + i;
            if (i % 2 == 0) {
                driver.define(FakeCodec.xml(n));
                driver.start(n);
            } else {
                driver.create(FakeCodec.xml(n)); // transient ones too: their definition lives in the status file
            }
            pids.put(n, driver.lookup(n).orElseThrow().pid());
        }
        return pids;
    }

    @Test
    void deactivationKillsNothingAndANewInstanceAdoptsEveryGuest() throws Exception {
        Map<String, Long> pids = startTen();
        driver.suspend("vm3");
        driver.deactivate();
        assertEquals(10, f.host.alive().size(), "deactivation never kills a guest");
        assertEquals(10, f.console.openSlaves.size(), "the consoles go on draining while no driver runs");
        assertEquals(10, Files.list(f.settings.statusDir()).filter(p -> p.toString().endsWith(".status")).count());

        int reTakenBefore = f.console.reTaken.get();
        driver = f.activate();
        assertEquals(new Reattacher.Result(10, 0), driver.reattached());
        assertEquals(reTakenBefore + 10, f.console.reTaken.get(), "every console session re-taken, none opened anew");
        for (var e : pids.entrySet()) {
            var i = driver.lookup(e.getKey()).orElseThrow();
            assertEquals(e.getValue(), i.pid(), e.getKey());
            assertEquals(e.getKey().equals("vm3") ? StateReason.PAUSED_USER : StateReason.BOOTED, i.reason());
            assertTrue(f.console.isOpen(e.getKey()), "console of " + e.getKey() + " reopened");
        }
        assertFalse(driver.lookup("vm1").orElseThrow().persistent());
        // the console works after the restart, and so does exit supervision
        driver.sendConsole("vm4", "q");
        Fixture.await("vm4 powered off", () -> driver.lookup("vm4").orElseThrow().reason() == StateReason.SHUTDOWN);
        f.host.aliveNamed("vm6").get(0).kill(9);
        Fixture.await("vm6 crashed", () -> driver.lookup("vm6").orElseThrow().reason() == StateReason.CRASHED);
        // and new ids do not collide with adopted ones
        driver.start("vm4");
        int id4 = driver.lookup("vm4").orElseThrow().id();
        assertTrue(driver.list().stream().filter(i -> i.isActive() && !i.name().equals("vm4")).allMatch(i -> i.id() != id4));
    }

    @Test
    void guestsThatEndedWhileTheManagerWasAwayGetTheRightReason() throws Exception {
        for (String n : List.of("poweroff", "killed", "destroyed", "alive")) {
            driver.define(FakeCodec.xml(n));
            driver.start(n);
        }
        driver.create(FakeCodec.xml("transient"));
        driver.deactivate();

        FakeHost.Proc killed = f.host.aliveNamed("killed").get(0);
        f.host.aliveNamed("poweroff").get(0).exitNormally();
        killed.kill(9);
        f.host.aliveNamed("transient").get(0).kill(9);
        // a destroy that was under way when the manager went: recorded in the status, then lkvm died
        Path st = f.settings.statusDir().resolve("destroyed.status");
        Files.writeString(st, StatusStore.format(StatusStore.parse(Files.readString(st)).withStopRequested()));
        f.host.aliveNamed("destroyed").get(0).kill(9);
        assertTrue(Files.exists(killed.socket), "a ghost socket");

        driver = f.activate();
        assertEquals(new Reattacher.Result(1, 4), driver.reattached());
        assertEquals(StateReason.SHUTDOWN, driver.lookup("poweroff").orElseThrow().reason());
        assertEquals(StateReason.CRASHED, driver.lookup("killed").orElseThrow().reason());
        assertEquals(StateReason.DESTROYED, driver.lookup("destroyed").orElseThrow().reason());
        assertEquals(DomainState.RUNNING, driver.lookup("alive").orElseThrow().state());
        assertTrue(driver.lookup("transient").isEmpty(), "a transient domain that ended is gone");
        assertFalse(Files.exists(killed.socket), "ghost socket cleaned");
        assertEquals(List.of("alive"), List.copyOf(f.cgroups.groups.keySet()), "cgroups of the dead cleaned");
        driver.destroy("alive");
        assertEquals(List.of(), f.leftovers());
        // the ends found at activation are published too (before any listener could register: Event Admin sees them)
        Fixture.await("stopped events", () -> f.adminEvents.stream().filter(e -> e.getTopic().equals("kvmtool/domain/STOPPED")).count() == 5);
    }

    /**
     * The manager killed during start, after the status file was written (before exec) and before "running":
     * the file still says shutoff. A lkvm that runs is adopted as running; one that never ran (the helper ends
     * when the manager dies) leaves a domain shutoff/failed and nothing behind.
     */
    @Test
    void aStartCutShortIsCompletedIfLkvmRunsAndFailedIfNot() throws Exception {
        Map<String, String> atExec = new HashMap<>();
        f.spawner.whileHeld = id -> {
            String n = id.cmdline().get(id.cmdline().indexOf("--name") + 1);
            try {
                atExec.put(n, Files.readString(f.settings.statusDir().resolve(n + ".status")));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        for (String n : List.of("ran", "never")) {
            driver.define(FakeCodec.xml(n));
            driver.start(n);
        }
        driver.deactivate();
        for (String n : List.of("ran", "never")) {
            DomainStatus held = StatusStore.parse(atExec.get(n));
            assertEquals(f.host.processes.values().stream().filter(p -> p.identity.cmdline().contains(n)).findFirst()
                    .orElseThrow().identity, held.process(), "the file named the process before it ran");
            assertEquals(DomainState.SHUTOFF, held.reason().state(), "and said the start was not over");
            Files.writeString(f.settings.statusDir().resolve(n + ".status"), atExec.get(n)); // the manager dies here
        }
        FakeHost.Proc never = f.host.aliveNamed("never").get(0);
        never.failWith(125); // what the helper does at EOF on its go pipe
        Files.deleteIfExists(never.socket);

        driver = f.activate();
        assertEquals(new Reattacher.Result(1, 1), driver.reattached());
        assertEquals(StateReason.BOOTED, driver.lookup("ran").orElseThrow().reason());
        assertEquals(f.host.aliveNamed("ran").get(0).pid(), driver.lookup("ran").orElseThrow().pid());
        assertEquals(StateReason.BOOTED, StatusStore.parse(Files.readString(f.settings.statusDir().resolve("ran.status"))).reason(),
                "the file says running from now on");
        assertEquals(StateReason.FAILED, driver.lookup("never").orElseThrow().reason());
        assertFalse(Files.exists(f.settings.statusDir().resolve("never.status")));
        driver.destroy("ran");
        assertEquals(List.of(), f.leftovers());
    }

    /**
     * A bundle update while a start waits for lkvm: the old driver finishes the start before it goes, so the
     * next one finds its status file and adopts the guest (were the start left running, it could record its
     * lkvm after the next driver had read the files, and nobody would own it).
     */
    @Test
    void aDriverStoppingDuringAStartFinishesItFirst() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        f.host.nextStart(FakeHost.Behaviour.HANG_BEFORE_READY);
        KvmtoolDriver old = driver;
        java.util.concurrent.CompletableFuture<Void> start = java.util.concurrent.CompletableFuture.runAsync(() -> old.start("vm1"));
        Fixture.await("lkvm spawned", () -> f.host.aliveNamed("vm1").size() == 1);
        java.util.concurrent.CompletableFuture<Void> stop = java.util.concurrent.CompletableFuture.runAsync(old::deactivate);
        Thread.sleep(200);
        assertFalse(stop.isDone(), "the driver stopped with a start under way");
        KvmtoolException refused = org.junit.jupiter.api.Assertions.assertThrows(KvmtoolException.class, () -> old.destroy("vm1"));
        assertEquals(org.kvmtool.manager.api.ErrorCode.OPERATION_INVALID, refused.code(), refused.getMessage());
        FakeHost.Proc lkvm = f.host.aliveNamed("vm1").get(0);
        lkvm.listen(); // lkvm answers: the start completes
        start.get(5, java.util.concurrent.TimeUnit.SECONDS);
        stop.get(5, java.util.concurrent.TimeUnit.SECONDS);

        driver = f.activate();
        assertEquals(new Reattacher.Result(1, 0), driver.reattached());
        assertEquals(StateReason.BOOTED, driver.lookup("vm1").orElseThrow().reason());
        assertEquals(lkvm.pid(), driver.lookup("vm1").orElseThrow().pid());
    }

    /** A HOME that no run owns (a start cut short before its status file) goes; the HOMEs of runs stay. */
    @Test
    void homesThatNoRunOwnsAreRemovedAtActivation() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        String home = driver.lookup("vm1").orElseThrow().id() >= 0 ? f.settings.homeDir(driver.lookup("vm1").orElseThrow().id()).toString() : null;
        driver.deactivate();
        Path orphan = Files.createDirectories(f.settings.homeDir(999).resolve(".lkvm"));
        Files.writeString(orphan.resolve("x.sock"), "");
        driver = f.activate();
        assertFalse(Files.exists(f.settings.homeDir(999)), "the orphan HOME is removed");
        assertTrue(Files.isDirectory(Path.of(home)), "the running guest's HOME stays");
        assertEquals(DomainState.RUNNING, driver.lookup("vm1").orElseThrow().state());
    }

    @Test
    void aLeftoverCgroupOfAnInactiveDomainIsRemoved() {
        driver.define(FakeCodec.xml("vm1"));
        f.cgroups.create("machine", "vm1");
        driver.deactivate();
        driver = f.activate();
        assertTrue(f.cgroups.groups.isEmpty());
    }

    @Test
    void aShutdownUnderWayIsStillTimedAfterARestart() {
        f.host.guestHonoursSysrq = false;
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        driver.shutdown("vm1");
        driver.deactivate();
        driver = f.activate();
        assertEquals(DomainState.SHUTDOWN, driver.lookup("vm1").orElseThrow().state());
        Fixture.await("destroyed on timeout", () -> driver.lookup("vm1").orElseThrow().reason() == StateReason.DESTROYED);
    }

    @Test
    void aPauseWhoseStatusWasNotSavedIsCorrectedFromLkvm() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        Path st = f.settings.statusDir().resolve("vm1.status");
        String running = Files.readString(st);
        driver.suspend("vm1");
        Files.writeString(st, running); // as if the write of "paused" had hit a full disk
        driver.deactivate();
        driver = f.activate();
        assertEquals(DomainState.PAUSED, driver.lookup("vm1").orElseThrow().state());
        driver.resume("vm1");
        assertEquals(StateReason.UNPAUSED, driver.lookup("vm1").orElseThrow().reason());
    }
}
