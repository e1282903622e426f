package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.StateReason;

/** Harder scenarios on the real services and the stand-in: contention, a full disk, system mode. */
class RealScenariosTest {
    @TempDir
    Path tmp;
    RealHost h;

    @BeforeEach
    void setUp() throws Exception {
        String why = RealHost.unavailable(tmp);
        assumeTrue(why == null, why);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    /** pid -> domain name of every stand-in lkvm whose HOME lies under {@code root}. */
    static Map<Long, String> lkvmsUnder(Path root) throws Exception {
        Map<Long, String> out = new HashMap<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    List<String> argv = List.of(Files.readString(p.resolve("cmdline")).split("\0"));
                    if (!argv.isEmpty() && argv.get(0).equals(RealHost.STANDIN) && argv.contains("--name")
                            && Files.readString(p.resolve("environ")).contains("HOME=" + root)) {
                        out.put(Long.parseLong(p.getFileName().toString()), argv.get(argv.indexOf("--name") + 1));
                    }
                } catch (java.io.IOException gone) {
                    // ended meanwhile
                }
            }
        }
        return out;
    }

    @Test
    void hundredThreadsOnFiveDomainsNeverTwoLkvmForOneAndNothingLeaks() throws Exception {
        h = new RealHost(tmp);
        KvmtoolDriver driver = h.activate();
        List<String> names = List.of("s0", "s1", "s2", "s3", "s4");
        for (String n : names) {
            driver.define(RealHost.xml(n, "<on_crash>restart</on_crash>"));
        }
        List<String> violations = new CopyOnWriteArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread watcher = new Thread(() -> {
            while (running.get()) {
                try {
                    Map<String, Long> perName = new HashMap<>();
                    lkvmsUnder(h.settings.runDir()).values().forEach(n -> perName.merge(n, 1L, Long::sum));
                    perName.forEach((n, c) -> {
                        if (c > 1) {
                            violations.add(c + " lkvm for " + n);
                        }
                    });
                } catch (Exception e) {
                    violations.add(e.toString());
                }
            }
        });
        watcher.start();
        EnumSet<ErrorCode> expected = EnumSet.of(ErrorCode.OPERATION_INVALID, ErrorCode.OPERATION_TIMEOUT, ErrorCode.NO_DOMAIN);
        Stress.Result result = Stress.run(100, 8, Duration.ofMinutes(5), r -> {
            String n = names.get(r.nextInt(names.size()));
            switch (r.nextInt(9)) {
                case 0, 1, 2 -> driver.start(n);
                case 3 -> driver.destroy(n);
                case 4 -> driver.suspend(n);
                case 5 -> driver.resume(n);
                case 6 -> driver.reboot(n);
                case 7 -> driver.sendConsole(n, "q");
                default -> driver.lookup(n).filter(x -> x.isActive())
                        .ifPresent(x -> ProcessHandle.of(x.pid()).ifPresent(ProcessHandle::destroyForcibly));
            }
        }, e -> expected.contains(e.code())
                || e.code() == ErrorCode.OPERATION_FAILED); // a start whose lkvm the last case killed fails: the truth
        System.out.println("contention on real services: " + result.outcomes());
        Fixture.await("quiet", () -> {
            try {
                Map<Long, String> live = lkvmsUnder(h.settings.runDir());
                return driver.list().stream().allMatch(i -> i.isActive() ? live.containsKey(i.pid()) : !live.containsValue(i.name()))
                        && live.size() == driver.list().stream().filter(i -> i.isActive()).count();
            } catch (Exception e) {
                return false;
            }
        });
        running.set(false);
        watcher.join();
        assertEquals(List.of(), result.unexpected());
        assertEquals(List.of(), violations, "never two lkvm for one domain");
        try {
            // destroyed until none is active: an end still being handled may restart its domain (on_crash,
            // on_reboot = restart) after a first pass has seen it shutoff
            Fixture.await("every lkvm gone", () -> {
                // it ended meanwhile (a 'q' on its way): "not running"; any other refusal fails
                Fixture.destroyActive(driver, e -> e.code() == ErrorCode.OPERATION_INVALID);
                try {
                    return lkvmsUnder(h.settings.runDir()).isEmpty() && h.leftovers().isEmpty();
                } catch (Exception e) {
                    return false;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + ": lkvm " + lkvmsUnder(h.settings.runDir()) + ", leftovers "
                    + h.leftovers() + ", domains " + driver.list(), e);
        }
        assertEquals(List.of(), h.leftovers());
    }

    @Test
    void aFullDiskDuringDefineAndStart() throws Exception {
        assumeTrue(Mounts.canMount(), "needs root and mount(8) to mount a small tmpfs");
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        try (Mounts.Tmpfs fs = Mounts.tmpfs(mnt, "512k")) {
            h = new RealHost(tmp);
            h.settings = new DriverSettings(h.settings.uri(), false, h.settings.lkvmBinary(), mnt.resolve("etc"),
                    mnt.resolve("run"), mnt.resolve("log"), h.settings.cgroupParent(), "kvmtool", h.settings.shutdownTimeout(),
                    64 * 1024, h.settings.jobWaitTimeout(), h.settings.readyTimeout(), h.settings.destroyGrace(), h.settings.ipcTimeout());
            KvmtoolDriver driver = h.activate();
            driver.define(RealHost.xml("vm1"));
            driver.start("vm1");
            long pid = driver.lookup("vm1").orElseThrow().pid();
            String before = Files.readString(h.settings.configDir().resolve("vm1.xml"));
            fs.fill();
            KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.define(RealHost.xml("vm2")));
            assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
            assertTrue(e.getMessage().endsWith("No space left on device"), e.getMessage());
            assertTrue(driver.lookup("vm2").isEmpty());
            assertEquals(before, Files.readString(h.settings.configDir().resolve("vm1.xml")));
            // a state change of the running guest cannot be saved: reported, and the guest lives on
            e = assertThrows(KvmtoolException.class, () -> driver.suspend("vm1"));
            assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
            assertEquals(DomainState.PAUSED, driver.lookup("vm1").orElseThrow().state());
            assertTrue(Files.exists(Path.of("/proc/" + pid)));
            fs.unfill();
            driver.define(RealHost.xml("vm2"));
            fs.fill();
            e = assertThrows(KvmtoolException.class, () -> driver.start("vm2"));
            System.out.println("start on a full disk: " + e.getMessage());
            assertEquals(ErrorCode.SYSTEM_ERROR, e.code(), e.toString());
            assertEquals(StateReason.FAILED, driver.lookup("vm2").orElseThrow().reason());
            assertFalse(lkvmsUnder(h.settings.runDir()).containsValue("vm2"), "the rollback ended the lkvm it had started");
            fs.unfill();
            driver.resume("vm1");
            driver.destroy("vm1");
            try {
                Fixture.await("no leftovers", () -> {
                    try {
                        return h.leftovers().isEmpty();
                    } catch (java.io.IOException | java.io.UncheckedIOException x) {
                        return false;
                    }
                });
            } catch (AssertionError x) {
                throw new AssertionError(x.getMessage() + ": " + h.leftovers(), x);
            }
            h.close();
            h = null;
        }
    }

    @Test
    void systemModeRunsLkvmAsTheUnprivilegedUser() throws Exception {
        String user = RealHost.systemModeUser("kvmtool-itest");
        assumeTrue(user != null, "system mode needs root and the user kvmtool-itest (useradd)");
        h = new RealHost(tmp);
        // HOME dirs must be reachable by the user: the run dir may not hide behind a root-only temp dir
        Path run = Files.createDirectories(Path.of("/run/kvmtool-itest-" + ProcessHandle.current().pid()));
        try {
            h.systemMode(user, run);
            KvmtoolDriver driver = h.activate();
            assertEquals("kvmtool:///system", driver.managerInfo().uri());
            driver.define(RealHost.xml("sys1"));
            driver.start("sys1");
            long pid = driver.lookup("sys1").orElseThrow().pid();
            String uid = Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("Uid:"))
                    .findFirst().orElseThrow();
            LkvmUser expected = LkvmUser.resolve(user, Path.of("/etc"), Path.of("/dev/kvm"));
            assertEquals(expected.uid(), Integer.parseInt(uid.split("\\s+")[2]), uid);
            driver.sendConsole("sys1", "hi");
            Fixture.await("echo", () -> driver.consoleLog("sys1", 1000).contains("hi"));
            driver.suspend("sys1");
            driver.destroy("sys1");
            assertEquals(StateReason.DESTROYED, driver.lookup("sys1").orElseThrow().reason());
        } finally {
            h.close();
            h = null;
            try (var w = Files.walk(run)) {
                w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
