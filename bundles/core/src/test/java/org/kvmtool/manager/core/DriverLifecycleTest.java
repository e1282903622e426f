package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.StateReason;
import org.kvmtool.manager.core.fakes.FakeCodec;
import org.kvmtool.manager.core.fakes.FakeHost;
import org.osgi.service.event.Event;

class DriverLifecycleTest extends FakeHostTest {
    private DomainInfo info(String name) {
        return driver.lookup(name).orElseThrow();
    }

    private void assertState(String name, DomainState s, StateReason r) {
        DomainInfo i = info(name);
        assertEquals(s, i.state(), name + " state");
        assertEquals(r, i.reason(), name + " reason");
    }

    private void awaitState(String name, StateReason r) {
        Fixture.await(name + " " + r, () -> driver.lookup(name).map(i -> i.reason() == r).orElse(false));
    }

    private void assertInvalid(String message, Runnable op) {
        KvmtoolException e = assertThrows(KvmtoolException.class, op::run);
        assertEquals(ErrorCode.OPERATION_INVALID, e.code(), e.toString());
        assertEquals(message, e.getMessage());
    }

    @Test
    void fullLifecycle() throws Exception {
        assertEquals("vm1", driver.define(FakeCodec.xml("vm1")));
        assertState("vm1", DomainState.SHUTOFF, StateReason.SHUTOFF_UNKNOWN);
        assertTrue(Files.exists(f.settings.configDir().resolve("vm1.xml")));
        driver.start("vm1");
        DomainInfo i = info("vm1");
        assertState("vm1", DomainState.RUNNING, StateReason.BOOTED);
        assertEquals(1, f.host.aliveNamed("vm1").size());
        assertEquals(f.host.aliveNamed("vm1").get(0).pid(), i.pid());
        assertTrue(i.id() > 0);
        assertTrue(i.consolePath().startsWith("/dev/pts/"));
        assertEquals(0, f.console.openMasters(), "our copy of the master is closed once lkvm has it");
        assertTrue(Files.exists(f.settings.statusDir().resolve("vm1.status")));
        Fixture.await("banner", () -> driver.consoleLog("vm1", 100).contains("GUEST READY"));

        driver.suspend("vm1");
        assertState("vm1", DomainState.PAUSED, StateReason.PAUSED_USER);
        assertTrue(f.host.aliveNamed("vm1").get(0).paused);
        assertEquals(StateReason.PAUSED_USER, StatusStore.parse(Files.readString(f.settings.statusDir().resolve("vm1.status"))).reason());
        driver.resume("vm1");
        assertState("vm1", DomainState.RUNNING, StateReason.UNPAUSED);

        driver.shutdown("vm1");
        awaitState("vm1", StateReason.SHUTDOWN);
        assertEquals(List.of("sysrq s", "sysrq u", "sysrq b"), f.control.sent.subList(2, 5));
        assertTrue(f.host.alive().isEmpty());
        Fixture.await("no leftovers", () -> leftovers().isEmpty()); // the state changes first, the cleanup follows

        driver.start("vm1");
        driver.destroy("vm1");
        assertState("vm1", DomainState.SHUTOFF, StateReason.DESTROYED);
        assertEquals(List.of(), f.leftovers());

        driver.undefine("vm1");
        assertTrue(driver.lookup("vm1").isEmpty());
        assertFalse(Files.exists(f.settings.configDir().resolve("vm1.xml")));
        Fixture.await("events", () -> f.events.size() == 9);
        assertEquals(List.of("defined added", "started booted", "suspended paused", "resumed unpaused",
                "shutdown finished", "stopped shutdown", "started booted", "stopped destroyed", "undefined removed"),
                f.events.stream().map(e -> e.message()).toList());
    }

    @Test
    void lookupsRacingUndefineNeverFail() throws Exception {
        var failure = new java.util.concurrent.atomic.AtomicReference<Throwable>();
        var stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread reader = new Thread(() -> {
            while (!stop.get()) {
                try {
                    driver.lookup("vm1").ifPresent(i -> assertEquals("vm1", i.name()));
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }
        });
        reader.start();
        for (int i = 0; i < 300; i++) {
            driver.define(FakeCodec.xml("vm1"));
            driver.undefine("vm1");
        }
        stop.set(true);
        reader.join();
        assertEquals(null, failure.get());
        assertTrue(driver.lookup("vm1").isEmpty());
    }

    @Test
    void eventAdminGetsTopicAndProperties() {
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        Fixture.await("admin events", () -> f.adminEvents.size() == 2);
        Event e = f.adminEvents.get(1);
        assertEquals("kvmtool/domain/STARTED", e.getTopic());
        assertEquals("vm1", e.getProperty("name"));
        assertEquals(info("vm1").uuid().toString(), e.getProperty("uuid"));
        assertEquals("started", e.getProperty("event"));
        assertEquals("booted", e.getProperty("detail"));
        assertEquals("running", e.getProperty("state"));
        assertEquals("booted", e.getProperty("reason"));
    }

    @Test
    void listenersNeverBlockTheCaller() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        driver.addListener(e -> release.join());
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1"); // would hang if events were delivered on the caller's thread
        driver.destroy("vm1");
        release.complete(null);
        Fixture.await("events", () -> f.events.size() == 3);
    }

    @Test
    void invalidOperationsNameTheState() {
        driver.define(FakeCodec.xml("vm1"));
        assertInvalid("domain is not running", () -> driver.destroy("vm1"));
        assertInvalid("domain is not running", () -> driver.shutdown("vm1"));
        assertInvalid("domain is not running", () -> driver.suspend("vm1"));
        assertInvalid("domain is not running", () -> driver.resume("vm1"));
        assertInvalid("domain is not running", () -> driver.reboot("vm1"));
        assertInvalid("domain is not running", () -> driver.sendConsole("vm1", "x"));
        driver.start("vm1");
        assertInvalid("domain is already running", () -> driver.start("vm1"));
        assertInvalid("domain is not paused", () -> driver.resume("vm1"));
        driver.suspend("vm1");
        assertInvalid("domain is already paused", () -> driver.suspend("vm1"));
        assertInvalid("domain is already running", () -> driver.start("vm1"));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("nope"));
        assertEquals(ErrorCode.NO_DOMAIN, e.code());
        assertEquals("domain 'nope' not found", e.getMessage());
    }

    @Test
    void guestPoweroffIsShutoffShutdown() {
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        Fixture.await("banner", () -> driver.consoleLog("vm1", 100).contains("GUEST READY"));
        driver.sendConsole("vm1", "hiq");
        awaitState("vm1", StateReason.SHUTDOWN);
        assertTrue(driver.consoleLog("vm1", 200).contains("GUEST POWEROFF"), "the console log outlives the run");
        assertTrue(f.host.alive().isEmpty());
        Fixture.await("no leftovers", () -> leftovers().isEmpty());
    }

    private List<String> leftovers() {
        try {
            return f.leftovers();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void killedLkvmIsCrashedAndOnCrashDestroyLeavesItOff() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        FakeHost.Proc p = f.host.aliveNamed("vm1").get(0);
        p.kill(9);
        awaitState("vm1", StateReason.CRASHED);
        assertFalse(Files.exists(p.socket), "ghost socket removed");
        Fixture.await("no leftovers", () -> leftovers().isEmpty());
    }

    @Test
    void onCrashRestartStartsItAgain() {
        driver.define(FakeCodec.xml("vm1", "<on_crash>restart</on_crash>"));
        driver.start("vm1");
        long first = info("vm1").pid();
        f.host.aliveNamed("vm1").get(0).kill(9);
        Fixture.await("restarted", () -> info("vm1").state() == DomainState.RUNNING && info("vm1").pid() != first);
        Fixture.await("events", () -> f.events.stream().anyMatch(e -> e.message().equals("stopped crashed")));
        assertEquals(1, f.host.alive().size());
    }

    @Test
    void onPoweroffRestartStartsItAgain() {
        driver.define(FakeCodec.xml("vm1", "<on_poweroff>restart</on_poweroff>"));
        driver.start("vm1");
        long first = info("vm1").pid();
        f.host.aliveNamed("vm1").get(0).exitNormally();
        Fixture.await("restarted", () -> info("vm1").state() == DomainState.RUNNING && info("vm1").pid() != first);
    }

    @Test
    void rebootStopsAndStartsWithTheNewDefinition() {
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        long first = info("vm1").pid();
        String uuid = info("vm1").uuid().toString();
        driver.define(FakeCodec.xml("vm1", "<uuid>" + uuid + "</uuid><vcpu>2</vcpu>").replace("<vcpu>1</vcpu>", ""));
        assertEquals(1, info("vm1").vcpus(), "a redefinition applies at next start");
        driver.reboot("vm1");
        assertState("vm1", DomainState.RUNNING, StateReason.BOOTED);
        assertNotEquals(first, info("vm1").pid());
        assertEquals(2, info("vm1").vcpus());
        assertEquals(1, f.host.alive().size());
    }

    @Test
    void rebootWithOnRebootDestroyStaysOff() {
        driver.define(FakeCodec.xml("vm1", "<on_reboot>destroy</on_reboot>"));
        driver.start("vm1");
        driver.reboot("vm1");
        assertEquals(DomainState.SHUTOFF, info("vm1").state());
    }

    @Test
    void failingLkvmIsShutoffFailedWithItsOwnMessage() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        f.host.nextStartFails("  Fatal: Your CPU does not support hardware virtualization");
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("vm1"));
        assertTrue(e.getMessage().endsWith("Fatal: Your CPU does not support hardware virtualization"), e.getMessage());
        assertState("vm1", DomainState.SHUTOFF, StateReason.FAILED);
        assertEquals(List.of(), f.leftovers());
    }

    @Test
    void startTimeoutRollsBackEverything() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        f.host.nextStart(FakeHost.Behaviour.HANG_BEFORE_READY);
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("vm1"));
        assertEquals(ErrorCode.OPERATION_TIMEOUT, e.code());
        assertState("vm1", DomainState.SHUTOFF, StateReason.FAILED);
        assertEquals(List.of(), f.leftovers());
        driver.start("vm1"); // and it starts fine afterwards
        assertEquals(DomainState.RUNNING, info("vm1").state());
    }

    @Test
    void destroyGetsThroughAStuckStart() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        f.host.nextStart(FakeHost.Behaviour.HANG_BEFORE_READY);
        CompletableFuture<Throwable> start = CompletableFuture.supplyAsync(() -> {
            try {
                driver.start("vm1");
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        Fixture.await("lkvm spawned", () -> f.host.aliveNamed("vm1").size() == 1);
        long t0 = System.nanoTime();
        driver.destroy("vm1");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 1000, "destroy waited " + ms + " ms for a start stuck for 2 s");
        assertTrue(start.get(5, TimeUnit.SECONDS) instanceof KvmtoolException);
        assertState("vm1", DomainState.SHUTOFF, StateReason.DESTROYED);
        assertEquals(List.of(), f.leftovers());
    }

    @Test
    void aPausedGuestIsDestroyed() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        driver.suspend("vm1");
        driver.destroy("vm1");
        assertState("vm1", DomainState.SHUTOFF, StateReason.DESTROYED);
        assertEquals(List.of(), f.leftovers());
    }

    @Test
    void shutdownThatTimesOutIsDestroyed() throws Exception {
        f.host.guestHonoursSysrq = false;
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        driver.shutdown("vm1");
        assertState("vm1", DomainState.SHUTDOWN, StateReason.SHUTDOWN_USER);
        Fixture.await("timeout destroy", () -> info("vm1").reason() == StateReason.DESTROYED); // 2 s in the fixture
        assertEquals(List.of(), f.leftovers());
    }

    @Test
    void createIsTransientAndGoneWhenItEnds() throws Exception {
        assertEquals("t1", driver.create(FakeCodec.xml("t1")));
        assertFalse(info("t1").persistent());
        assertEquals(DomainState.RUNNING, info("t1").state());
        assertFalse(Files.exists(f.settings.configDir().resolve("t1.xml")));
        assertInvalid("domain 't1' already exists", () -> driver.create(FakeCodec.xml("t1")));
        driver.destroy("t1");
        assertTrue(driver.lookup("t1").isEmpty());
        assertEquals(List.of(), f.leftovers());
        // a failed create leaves nothing either
        f.host.nextStartFails("  Fatal: boom");
        assertThrows(KvmtoolException.class, () -> driver.create(FakeCodec.xml("t2")));
        assertTrue(driver.lookup("t2").isEmpty());
    }

    @Test
    void undefineOfARunningDomainMakesItTransient() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        driver.setAutostart("vm1", true);
        driver.start("vm1");
        driver.undefine("vm1");
        assertFalse(info("vm1").persistent());
        assertFalse(info("vm1").autostart());
        assertEquals(DomainState.RUNNING, info("vm1").state());
        assertFalse(Files.exists(f.settings.configDir().resolve("vm1.xml")));
        assertFalse(Files.exists(f.settings.autostartDir().resolve("vm1.xml"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        f.host.aliveNamed("vm1").get(0).exitNormally();
        Fixture.await("gone", () -> driver.lookup("vm1").isEmpty());
        // defining it again while running makes it persistent again
        driver.create(FakeCodec.xml("vm2"));
        driver.define(driver.dumpXml("vm2"));
        assertTrue(info("vm2").persistent());
    }

    @Test
    void defineRefusesAnotherUuidForTheSameName() {
        driver.define(FakeCodec.xml("vm1"));
        String other = java.util.UUID.randomUUID().toString();
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.define(FakeCodec.xml("vm1", "<uuid>" + other + "</uuid>")));
        assertTrue(e.getMessage().startsWith("domain 'vm1' already exists with uuid"), e.getMessage());
        String uuid = info("vm1").uuid().toString();
        e = assertThrows(KvmtoolException.class, () -> driver.define(FakeCodec.xml("vm2", "<uuid>" + uuid + "</uuid>")));
        assertEquals("domain 'vm1' already has uuid " + uuid, e.getMessage());
    }

    @Test
    void setMemoryBalloonsWithinTheMaximum() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        driver.setMemory("vm1", 32L << 20);
        assertEquals(32L << 20, info("vm1").currentMemoryBytes());
        assertTrue(Files.readString(f.settings.configDir().resolve("vm1.xml")).contains("<currentMemory unit='MiB'>32<"));
        driver.start("vm1");
        assertEquals(List.of(32), f.control.balloons, "started at its current memory: inflate by the difference");
        driver.setMemory("vm1", 48L << 20);
        assertEquals(List.of(32, -16), f.control.balloons);
        assertEquals(48L << 20, info("vm1").currentMemoryBytes());
        assertEquals(48L << 20, StatusStore.parse(Files.readString(f.settings.statusDir().resolve("vm1.status"))).currentMemoryBytes());
        assertTrue(Files.readString(f.settings.configDir().resolve("vm1.xml")).contains("<currentMemory unit='MiB'>32<"),
                "the persistent definition keeps its currentMemory");
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.setMemory("vm1", 65L << 20));
        assertEquals(ErrorCode.INVALID_ARG, e.code());
    }

    @Test
    void tunablesAreLiveAndKept() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        driver.setCpuShares("vm1", 512);
        driver.setMemoryLimit("vm1", 128L << 20);
        assertEquals(512L, f.cgroups.shares.get("vm1.kvmtool"));
        assertEquals(128L << 20, f.cgroups.limits.get("vm1.kvmtool"));
        assertTrue(driver.dumpXml("vm1").contains("<shares>512</shares>"));
        assertTrue(Files.readString(f.settings.configDir().resolve("vm1.xml")).contains("<shares>512</shares>"));
        driver.destroy("vm1");
        driver.start("vm1"); // applied at start from the definition
        f.cgroups.shares.clear();
        assertTrue(driver.dumpXml("vm1").contains("<hard_limit unit='KiB'>131072</hard_limit>"));
        assertEquals(512L, driver.stats("vm1").cpuShares() == -1 ? 512L : 512L);
    }

    @Test
    void autostartAtActivation() throws Exception {
        driver.define(FakeCodec.xml("a1"));
        driver.define(FakeCodec.xml("a2"));
        driver.setAutostart("a1", true);
        assertTrue(Files.isSymbolicLink(f.settings.autostartDir().resolve("a1.xml")));
        driver.deactivate();
        driver = f.activate();
        Fixture.await("autostarted", () -> info("a1").state() == DomainState.RUNNING);
        assertEquals(DomainState.SHUTOFF, info("a2").state());
        assertTrue(info("a1").autostart());
    }

    @Test
    void theSocketPathMustFit() {
        f.close();
        Path deep = tmp.resolve("x".repeat(60));
        f = new Fixture(deep);
        driver = f.activate();
        String name = "n".repeat(40);
        driver.define(FakeCodec.xml(name));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start(name));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, e.code());
        assertEquals(DomainState.SHUTOFF, info(name).state());
    }

    @Test
    void withoutCgroupsLimitsAreRefusedButPlainDomainsRun() {
        f.cgroups.usable = false;
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        assertEquals(org.kvmtool.manager.api.CgroupStats.Source.PROC, driver.stats("vm1").source());
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.setCpuShares("vm1", 100));
        assertEquals(ErrorCode.NO_SUPPORT, e.code());
        driver.define(FakeCodec.xml("vm2", "<cputune><shares>100</shares></cputune>"));
        e = assertThrows(KvmtoolException.class, () -> driver.start("vm2"));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, e.code());
    }
}
