package org.kvmtool.manager.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Faults around the manager itself: kill -9 of Karaf during define, start and stop, then a restart; a
 * malformed status file; a recorded pid now owned by another process; a full and a read-only config and run
 * dir (small tmpfs mounts, root only). Criteria as in {@link FaultCampaignTest}.
 * {@code mvn -B -o -pl itests/bench verify -Dgroups=faults-restart -DexcludedGroups=none}
 */
@Tag("faults-restart")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KarafFaultsTest {
    static final Duration SETTLE = Duration.ofSeconds(15);
    private final long seed = Long.getLong("faults.seed", System.nanoTime());
    private final Random random = new Random(seed);
    private Product p;
    private Path linux;
    private final List<Path> mounts = new ArrayList<>();
    private final List<ProcessHandle> strangers = new ArrayList<>();

    @BeforeAll
    void boot() throws Exception {
        System.out.println("faults.seed=" + seed);
        String real = System.getenv("KVMTOOL_LKVM");
        Path lkvm = Path.of(real != null && !real.isEmpty() ? real : System.getProperty("kvmtool.standin.lkvm"));
        p = new Product(lkvm, Map.of("shutdown.timeout.seconds", "2"));
        if (isRoot()) {
            for (Path d : List.of(p.configDir, p.runDir)) {
                Files.createDirectories(d);
                Product.run(p.state, Duration.ofSeconds(20), "mount", "-t", "tmpfs", "-o", "size=1m", "kvmbench", d.toString());
                mounts.add(d);
            }
        }
        long boot = p.start();
        System.out.printf("FAULT boot: Jolokia after %d ms, boot features settled %d ms later%n", boot,
                Campaign.awaitBootFeatures(p, Product.BOOT_TIMEOUT));
        linux = p.marker("linux.k", "linux cpu-percent=0");
    }

    @AfterAll
    void end() throws Exception {
        strangers.forEach(ProcessHandle::destroyForcibly);
        try {
            if (p != null && p.karaf() != null) {
                p.kill9();
            }
            if (p != null) {
                p.lkvmProcesses().forEach(ProcessHandle::destroyForcibly);
                Thread.sleep(300);
            }
        } finally {
            for (Path m : mounts) {
                try {
                    Product.run(p.state, Duration.ofSeconds(20), "umount", "-l", m.toString());
                } catch (IllegalStateException e) {
                    System.out.println("umount " + m + ": " + e.getMessage());
                }
            }
            if (p != null) {
                p.close();
            }
        }
    }

    private static boolean isRoot() {
        try {
            return Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private void restart() throws Exception {
        long ms = p.start();
        System.out.printf("FAULT restart: Jolokia after %d ms%n", ms);
    }

    @Test
    @Order(1)
    void karafKilledDuringDefineThenRestarted() throws Exception {
        ConcurrentLinkedQueue<String> defined = new ConcurrentLinkedQueue<>();
        Thread t = new Thread(() -> {
            for (int i = 0; i < 500; i++) {
                try {
                    p.define(Product.xml("def" + i, linux, 32));
                    defined.add("def" + i);
                } catch (Exception karafGone) {
                    return;
                }
            }
        });
        t.start();
        // the first definitions of a fresh JVM are slow: kill within a stream of defines, not before the first returned
        Campaign.await(Duration.ofSeconds(60), () -> defined.size() >= 3, () -> "3 definitions before the kill");
        Thread.sleep(random.nextInt(300));
        p.kill9();
        t.join(60_000);
        restart();
        Campaign.assertStateTrueNow(p, "the restart");
        List<String> names = Campaign.names(p);
        for (String d : defined) {
            assertTrue(names.contains(d), d + " was defined (defineDomain returned) and is lost after kill -9: " + names);
        }
        try (Stream<Path> files = Files.list(p.configDir)) {
            List<String> odd = files.map(f -> f.getFileName().toString())
                    .filter(f -> !f.endsWith(".xml") && !f.equals("autostart") && !f.equals("lost+found")).toList();
            assertTrue(odd.isEmpty(), "no temp files left in the config dir: " + odd);
        }
        System.out.printf("FAULT kill -9 Karaf during define: %d defined before the kill, all kept%n", defined.size());
        Campaign.assertTruth(p, SETTLE);
    }

    @Test
    @Order(2)
    void karafKilledDuringStartAndStopThenRestarted() throws Exception {
        for (int i = 0; i < 6; i++) {
            p.define(Product.xml("ks" + i, linux, 32));
        }
        for (String phase : List.of("start", "stop")) {
            if (phase.equals("stop")) {
                for (int i = 0; i < 6; i++) {
                    if (!p.state("ks" + i).equals("running")) {
                        p.startDomain("ks" + i);
                    }
                }
            }
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                String d = "ks" + i;
                String op = phase.equals("start") ? "start" : (i % 2 == 0 ? "shutdown" : "destroy");
                Thread t = new Thread(() -> {
                    try {
                        p.exec(Product.domain(d), op);
                    } catch (Exception karafGone) {
                        // expected for some
                    }
                });
                t.start();
                ts.add(t);
            }
            if (phase.equals("start")) {
                // in the middle of the starts: once some of them have a process (held helper or lkvm), not all
                int some = 1 + random.nextInt(5);
                long until = System.nanoTime() + 10_000_000_000L;
                while (p.lkvmProcesses().size() < some && System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            } else {
                Thread.sleep(random.nextInt(150));
            }
            Map<Long, String> before = new java.util.HashMap<>();
            p.kill9();
            for (Thread t : ts) {
                t.join(60_000);
            }
            p.lkvmProcesses().forEach(h -> before.put(h.pid(), Product.cmdline(h.pid())));
            restart();
            Campaign.assertStateTrueNow(p, "the restart after kill -9 of Karaf during " + phase);
            Campaign.assertTruth(p, SETTLE);
            // no guest lost: every lkvm alive when Karaf died and still alive now is claimed by its domain
            for (long pid : before.keySet()) {
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !Campaign.isZombie(pid)) {
                    boolean claimed = false;
                    for (int i = 0; i < 6; i++) {
                        claimed |= p.pid("ks" + i) == pid;
                    }
                    assertTrue(claimed, "lkvm " + pid + " survived the kill -9 of Karaf during " + phase + " and is claimed");
                }
            }
            System.out.printf("FAULT kill -9 Karaf during %s: %d lkvm alive at the kill, states true after restart%n",
                    phase, before.size());
        }
        for (int i = 0; i < 6; i++) {
            if (!p.state("ks" + i).equals("shutoff")) {
                p.exec(Product.domain("ks" + i), "destroy");
            }
        }
        Campaign.assertTruth(p, SETTLE);
    }

    @Test
    @Order(3)
    void pidReusedAfterRestart() throws Exception {
        p.define(Product.xml("reuse", linux, 32));
        p.startDomain("reuse");
        long pid = p.pid("reuse");
        p.kill9();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        Process stranger = new ProcessBuilder("sleep", "600").start();
        strangers.add(stranger.toHandle());
        Path status = p.runDir.resolve("reuse.status");
        String text = Files.readString(status, StandardCharsets.ISO_8859_1);
        Files.writeString(status, text.replaceAll("(?m)^pid=\\d+$", "pid=" + stranger.pid()), StandardCharsets.ISO_8859_1);
        restart();
        Campaign.assertStateTrueNow(p, "the restart");
        assertEquals("shutoff", p.state("reuse"), "shutoff once its recorded pid belongs to another process");
        assertTrue(stranger.isAlive(), "the process now owning the recorded pid is left alone");
        assertEquals(-1L, p.pid("reuse"));
        Campaign.assertTruth(p, SETTLE);
        p.startDomain("reuse");
        assertEquals("running", p.state("reuse"));
        p.exec(Product.domain("reuse"), "destroy");
        stranger.destroyForcibly();
        System.out.println("FAULT pid reuse: domain shutoff, the stranger untouched");
    }

    @Test
    @Order(4)
    void malformedStatusFile() throws Exception {
        p.define(Product.xml("mal", linux, 32));
        p.define(Product.xml("maldead", linux, 32));
        p.define(Product.xml("good", linux, 32));
        p.startDomain("mal");
        p.startDomain("maldead");
        p.startDomain("good");
        long goodPid = p.pid("good");
        long malPid = p.pid("mal");
        long deadPid = p.pid("maldead");
        p.kill9();
        ProcessHandle.of(deadPid).orElseThrow().destroyForcibly();
        Files.writeString(p.runDir.resolve("mal.status"), "pid=banana\n\0\0garbage=\\u12");
        Files.writeString(p.runDir.resolve("maldead.status"), "pid=banana\n\0\0garbage=\\u12");
        restart();
        Campaign.assertStateTrueNow(p, "the restart");
        assertEquals("running", p.state("good"), "the other guest reattached");
        assertEquals(goodPid, p.pid("good"));
        assertTrue(Campaign.names(p).containsAll(List.of("mal", "maldead")), "definitions kept");
        // the lkvm behind the garbage is found by name and adopted; the file is rewritten
        assertEquals("running", p.state("mal"), "mal's lkvm " + malPid + " adopted");
        assertEquals(malPid, p.pid("mal"));
        java.util.Properties rewritten = new java.util.Properties();
        try (var r = Files.newBufferedReader(p.runDir.resolve("mal.status"), StandardCharsets.ISO_8859_1)) {
            rewritten.load(r);
        }
        assertEquals(Long.toString(malPid), rewritten.getProperty("pid"), "mal.status rewritten");
        // with no lkvm behind it: shutoff, the bad file gone (assertTruth checks both)
        assertEquals("shutoff", p.state("maldead"));
        assertTrue(Files.notExists(p.runDir.resolve("maldead.status")), "maldead.status removed");
        System.out.printf("FAULT malformed status: mal running with its lkvm %d, status rewritten; maldead shutoff, file removed%n",
                malPid);
        Campaign.assertTruth(p, SETTLE);
        p.exec(Product.domain("good"), "destroy");
        p.exec(Product.domain("mal"), "destroy");
        Campaign.assertStateTrueNow(p, "destroy of mal and good");
        Campaign.assertTruth(p, SETTLE);
        p.startDomain("maldead");
        p.exec(Product.domain("maldead"), "destroy");
        Campaign.assertTruth(p, SETTLE);
    }

    @Test
    @Order(5)
    void diskFullAndReadOnly() throws Exception {
        Assumptions.assumeTrue(!mounts.isEmpty(), "needs root for the tmpfs mounts");
        List<String> namesBefore = Campaign.names(p);
        Path filler = p.configDir.resolve("filler");
        try (var out = Files.newOutputStream(filler)) {
            byte[] b = new byte[4096];
            while (true) {
                out.write(b);
                out.flush();
            }
        } catch (java.io.IOException full) {
            // ENOSPC: the config dir is full
        }
        Product.JolokiaError e = assertThrows(Product.JolokiaError.class,
                () -> p.define(Product.xml("full", linux, 32)));
        System.out.println("FAULT define on a full config dir: " + e.getMessage());
        assertEquals(namesBefore, Campaign.names(p), "no definition gained or lost on a full disk");
        assertFalse(Files.exists(p.configDir.resolve("full.xml")), "no partial definition file");
        Files.delete(filler);
        p.define(Product.xml("full", linux, 32));
        assertTrue(Campaign.names(p).contains("full"));

        Product.run(p.state, Duration.ofSeconds(20), "mount", "-o", "remount,ro", p.configDir.toString());
        try {
            Product.JolokiaError ro = assertThrows(Product.JolokiaError.class,
                    () -> p.define(Product.xml("rodef", linux, 32)));
            System.out.println("FAULT define on a read-only config dir: " + ro.getMessage());
            p.startDomain("full");
            assertEquals("running", p.state("full"), "a defined guest starts with a read-only config dir");
            p.exec(Product.domain("full"), "destroy");
        } finally {
            Product.run(p.state, Duration.ofSeconds(20), "mount", "-o", "remount,rw", p.configDir.toString());
        }
        Product.run(p.state, Duration.ofSeconds(20), "mount", "-o", "remount,ro", p.runDir.toString());
        try {
            Product.JolokiaError ro = assertThrows(Product.JolokiaError.class, () -> p.startDomain("full"));
            System.out.println("FAULT start with a read-only run dir: " + ro.getMessage());
            Campaign.assertTruth(p, SETTLE);
        } finally {
            Product.run(p.state, Duration.ofSeconds(20), "mount", "-o", "remount,rw", p.runDir.toString());
        }
        p.startDomain("full");
        p.exec(Product.domain("full"), "destroy");
        Campaign.assertTruth(p, SETTLE);
        TimeUnit.MILLISECONDS.sleep(1);
    }
}
