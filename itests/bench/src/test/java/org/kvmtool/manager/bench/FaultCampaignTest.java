package org.kvmtool.manager.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The fault campaign on the running distribution (one Karaf, the stand-in): each fault, then the criteria —
 * no guest lost, no definition lost, no leaked process/cgroup/socket/pty, every State true. Runs in the
 * default build: {@code mvn -B -o -pl itests/bench verify}. Seeds are printed so that a failure can be replayed
 * with {@code -Dfaults.seed=N}.
 */
@Tag("faults")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultCampaignTest {
    static final Duration SETTLE = Duration.ofSeconds(10);
    /**
     * How soon after kill -9 of lkvm every State must be true, as seen by a Jolokia client (HTTP round trips
     * included). The goal is 10 ms at the manager; a client on a loaded 2-CPU CI machine cannot see that finely,
     * so the bound asserted here is looser and the measured lags are printed.
     */
    static final Duration TRUE_WITHIN = Duration.ofMillis(Long.getLong("faults.truth.ms", 5000));
    private final long seed = Long.getLong("faults.seed", System.nanoTime());
    private final Random random = new Random(seed);
    private Product p;
    private Path guest;
    private Path linux;

    @BeforeAll
    void boot() throws Exception {
        System.out.println("faults.seed=" + seed);
        String real = System.getenv("KVMTOOL_LKVM");
        Path lkvm = Path.of(real != null && !real.isEmpty() ? real : System.getProperty("kvmtool.standin.lkvm"));
        guest = Path.of(System.getProperty("kvmtool.test.guest"));
        p = new Product(lkvm, Map.of("shutdown.timeout.seconds", "2"));
        long boot = p.start();
        System.out.printf("FAULT boot: Jolokia after %d ms, boot features settled %d ms later%n", boot,
                Campaign.awaitBootFeatures(p, Product.BOOT_TIMEOUT));
        linux = p.marker("linux.k", "linux cpu-percent=0");
    }

    @AfterAll
    void end() throws Exception {
        if (p != null) {
            p.close();
        }
    }

    /** kill -9 of lkvm at a random moment of each operation; then the domain starts again. */
    @Test
    @Order(1)
    void lkvmKilledAtRandomMomentsOfEveryOperation() throws Exception {
        p.define(Product.xml("k9", linux, 64));
        int ptys = Campaign.ptyFds(p.karaf());
        String[] ops = {"start", "shutdown", "destroy", "suspend", "resume", "reboot"};
        ExecutorService ex = Executors.newSingleThreadExecutor();
        List<Double> lags = new ArrayList<>();
        try {
            for (int round = 0; round < 3; round++) {
                for (String op : ops) {
                    if (!op.equals("start")) {
                        p.startDomain("k9");
                        if (op.equals("resume")) {
                            p.exec(Product.domain("k9"), "suspend");
                        }
                    }
                    int delayMicros = random.nextInt(30_000);
                    AtomicLong answered = new AtomicLong();
                    Future<?> f = ex.submit(() -> {
                        try {
                            return p.exec(Product.domain("k9"), op);
                        } finally {
                            answered.set(System.nanoTime());
                        }
                    });
                    long deadline = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(delayMicros);
                    while (System.nanoTime() < deadline) {
                        Thread.onSpinWait();
                    }
                    p.lkvmProcesses().forEach(ProcessHandle::destroyForcibly);
                    long killed = System.nanoTime();
                    try {
                        f.get(30, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException refusedOrFailed) {
                        // an operation may fail because its guest died under it: it must say so, not hang
                    }
                    // the fact is the later of the kill and the answer (an operation in progress may hold the domain)
                    lags.add(Campaign.stateTrueAfter(p, Math.max(killed, answered.get()), TRUE_WITHIN,
                            "kill -9 during " + op + " (" + delayMicros + " us in)"));
                    // reboot or a start racing the kill may have started a new lkvm: end it
                    Campaign.await(SETTLE, () -> {
                        String s = p.state("k9");
                        if (!s.equals("shutoff")) {
                            p.exec(Product.domain("k9"), "destroy");
                        }
                        return p.state("k9").equals("shutoff");
                    }, () -> "k9 shutoff after kill -9 during " + op);
                    Campaign.assertTruth(p, SETTLE);
                    assertTrue(Campaign.names(p).contains("k9"), "definition kept after kill -9 during " + op);
                }
            }
        } finally {
            ex.shutdownNow();
        }
        System.out.println("FAULT kill -9 of lkvm during every operation: every State true "
                + Campaign.summary(lags) + " after the later of the kill and the answer (Jolokia reads)");
        p.startDomain("k9");
        assertEquals("running", p.state("k9"));
        p.exec(Product.domain("k9"), "destroy");
        Campaign.assertStateTrueNow(p, "destroy of k9");
        Campaign.assertTruth(p, SETTLE);
        Campaign.await(SETTLE, () -> Campaign.ptyFds(p.karaf()) <= ptys,
                () -> "pty descriptors of Karaf back to " + ptys + ", now " + Campaign.ptyFds(p.karaf()));
    }

    @Test
    @Order(2)
    void pausedGuestDestroyed() throws Exception {
        p.define(Product.xml("paused", linux, 64));
        p.startDomain("paused");
        long pid = p.pid("paused");
        p.exec(Product.domain("paused"), "suspend");
        assertEquals("paused", p.state("paused"));
        long t0 = System.nanoTime();
        p.exec(Product.domain("paused"), "destroy");
        double ms = (System.nanoTime() - t0) / 1e6;
        assertEquals("shutoff", p.state("paused"));
        assertEquals("destroyed", p.read(Product.domain("paused"), "StateReason"));
        assertTrue(ProcessHandle.of(pid).map(h -> !h.isAlive() || Campaign.isZombie(pid)).orElse(true),
                "lkvm " + pid + " gone once destroy() returned");
        Campaign.assertStateTrueNow(p, "destroy of a paused guest");
        Campaign.assertTruth(p, SETTLE);
        System.out.printf("FAULT paused guest destroyed: shutoff, reason destroyed, %.0f ms%n", ms);
    }

    /** A third party sends STAT to a guest without a balloon driver: lkvm's IPC thread is stuck for good. */
    @Test
    @Order(3)
    void statWithoutBalloonDriverBlocksNothing() throws Exception {
        p.define(Product.xml("nostat", guest, 64));
        p.define(Product.xml("other", linux, 64));
        p.startDomain("nostat");
        Path socket = Path.of((String) statusValue("nostat", "socket"));
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(3).putInt(0).flip());
            Thread.sleep(200);
            long t0 = System.nanoTime();
            p.startDomain("other");
            assertEquals("running", p.state("other"));
            assertEquals("running", p.state("nostat"));
            p.read(Product.domain("nostat"), "CpuTimeNanos");
            p.read(Product.domain("nostat"), "MemoryUsageBytes");
            p.read(Product.domain("nostat"), "CurrentMemoryBytes");
            double others = (System.nanoTime() - t0) / 1e6;
            long d0 = System.nanoTime();
            try {
                p.exec(Product.domain("nostat"), "suspend");
            } catch (Product.JolokiaError timedOut) {
                System.out.println("FAULT suspend of a guest whose IPC is stuck: " + timedOut.getMessage());
            }
            double suspendMs = (System.nanoTime() - d0) / 1e6;
            d0 = System.nanoTime();
            p.exec(Product.domain("nostat"), "destroy");
            double destroyMs = (System.nanoTime() - d0) / 1e6;
            assertEquals("shutoff", p.state("nostat"));
            Campaign.assertStateTrueNow(p, "destroy of a guest with a stuck IPC thread");
            System.out.printf("FAULT STAT stuck: other domain start + reads %.0f ms, suspend %.0f ms, destroy %.0f ms%n",
                    others, suspendMs, destroyMs);
            assertTrue(destroyMs < 15_000, "destroy of a guest with a stuck IPC thread took " + destroyMs + " ms");
        }
        p.exec(Product.domain("other"), "destroy");
        Campaign.assertStateTrueNow(p, "destroy of the other domain");
        Campaign.assertTruth(p, SETTLE);
    }

    /** 512 KiB of console output while nobody is attached: all of it in the log; the guest still answers. */
    @Test
    @Order(4)
    void consoleFloodWhileDetached() throws Exception {
        // below console.log.max.bytes (1 MiB by default): the log rotates beyond it
        long flood = 512 << 10;
        p.define(Product.xml("fl", p.marker("fl.k", "flood=" + flood), 64));
        p.startDomain("fl");
        Path log = p.logDir.resolve("fl.log");
        Campaign.await(Duration.ofSeconds(60), () -> Files.exists(log) && Files.size(log) >= flood,
                () -> "512 KiB flood logged");
        assertFloodLogged(Files.readAllBytes(log), flood);
        long t0 = System.nanoTime();
        p.exec(Product.domain("fl"), "sendConsole", "Z");
        Campaign.await(Duration.ofSeconds(10), () -> ((String) p.exec(Product.domain("fl"), "consoleLog", 64)).endsWith("Z"),
                () -> "the flooded guest echoes Z");
        System.out.printf("FAULT flood while detached: %d bytes logged, echo after %.0f ms%n", Files.size(log),
                (System.nanoTime() - t0) / 1e6);
        p.exec(Product.domain("fl"), "destroy");
        Campaign.assertStateTrueNow(p, "destroy of the flooded guest");
        Campaign.assertTruth(p, SETTLE);
    }

    /** 100 concurrent Jolokia clients on 20 domains; afterwards every State is true and nothing leaked. */
    @Test
    @Order(5)
    void hundredConcurrentClientsOnTwentyDomains() throws Exception {
        for (int i = 0; i < 20; i++) {
            p.define(Product.xml("cc" + i, linux, 32));
        }
        String[] ops = {"start", "destroy", "suspend", "resume", "shutdown", "State", "Pid", "dumpXml"};
        ExecutorService ex = Executors.newFixedThreadPool(100);
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        ConcurrentLinkedQueue<String> odd = new ConcurrentLinkedQueue<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.getLong("faults.concurrent.seconds", 20));
        List<Future<?>> fs = new ArrayList<>();
        for (int c = 0; c < 100; c++) {
            long s = random.nextLong();
            fs.add(ex.submit(() -> {
                Random r = new Random(s);
                while (System.nanoTime() < end) {
                    String d = "cc" + r.nextInt(20);
                    String op = ops[r.nextInt(ops.length)];
                    try {
                        if (Character.isUpperCase(op.charAt(0))) {
                            p.read(Product.domain(d), op);
                        } else {
                            p.exec(Product.domain(d), op);
                        }
                        ok.incrementAndGet();
                    } catch (Product.JolokiaError e) {
                        String m = String.valueOf(e.getMessage());
                        if (m.contains("not running") || m.contains("already") || m.contains("not paused")
                                || m.contains("is running") || m.contains("paused") || m.contains("shut")
                                || m.contains("busy") || m.contains("in progress") || m.contains("state")
                                || m.contains("aborted by destroy")) {
                            refused.incrementAndGet();
                        } else {
                            odd.add(op + " " + d + ": " + m);
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(5, TimeUnit.MINUTES);
        }
        ex.shutdown();
        System.out.printf("FAULT 100 clients x 20 domains: %d done, %d refused for the state, %d other errors %s%n",
                ok.get(), refused.get(), odd.size(), odd.stream().limit(5).toList());
        Campaign.assertStateTrueNow(p, "the last of 100 clients answered");
        Campaign.assertTruth(p, SETTLE);
        for (int i = 0; i < 20; i++) {
            String s = p.state("cc" + i);
            if (!s.equals("shutoff")) {
                p.exec(Product.domain("cc" + i), "destroy");
            }
        }
        Campaign.assertStateTrueNow(p, "destroy of the 20 domains");
        Campaign.assertTruth(p, SETTLE);
        assertTrue(Campaign.names(p).containsAll(List.of("cc0", "cc19")), "definitions kept");
        assertTrue(odd.isEmpty(), "errors that are not about the state: " + odd.stream().limit(10).toList());
    }

    /**
     * "Every state true within 10 ms of the fact", measured where it can be: kill -9 of a running guest, then the
     * timestamp of its lifecycle notification ("stopped crashed", stamped by the manager when it made the domain
     * shutoff) against the wall clock of the kill (same host, millisecond resolution); and, as a client sees it,
     * the first Jolokia read at which every State was true again.
     */
    @Test
    @Order(6)
    void stateShutoffWithinMillisOfKill() throws Exception {
        p.define(Product.xml("tk", linux, 32));
        javax.management.ObjectName on = new javax.management.ObjectName(Product.domain("tk"));
        java.util.concurrent.BlockingQueue<javax.management.Notification> q = new java.util.concurrent.LinkedBlockingQueue<>();
        javax.management.NotificationListener l = (n, hb) -> {
            if (n.getType().equals("kvmtool.domain.lifecycle")) {
                q.add(n);
            }
        };
        p.jmx().addNotificationListener(on, l, null, null);
        List<Double> manager = new ArrayList<>();
        List<Double> client = new ArrayList<>();
        try {
            for (int i = 0; i < Integer.getInteger("faults.kill.rounds", 10); i++) {
                p.startDomain("tk");
                long pid = p.pid("tk");
                Thread.sleep(100); // the start's own notifications delivered
                q.clear();
                long killMillis = System.currentTimeMillis();
                long killNanos = System.nanoTime();
                ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                javax.management.Notification stopped = null;
                long deadline = System.nanoTime() + SETTLE.toNanos();
                while (stopped == null && System.nanoTime() < deadline) {
                    javax.management.Notification n = q.poll(100, TimeUnit.MILLISECONDS);
                    if (n != null && n.getMessage().startsWith("stopped")) {
                        stopped = n;
                    }
                }
                assertTrue(stopped != null, "no stopped notification within " + SETTLE + " of kill -9");
                assertEquals("stopped crashed", stopped.getMessage());
                client.add(Campaign.stateTrueAfter(p, killNanos, TRUE_WITHIN, "kill -9 of tk"));
                manager.add((double) (stopped.getTimeStamp() - killMillis));
                assertEquals("shutoff", p.state("tk"));
            }
        } finally {
            p.jmx().removeNotificationListener(on, l);
        }
        System.out.println("FAULT kill -9 -> shutoff: at the manager (notification timestamp - kill) " + Campaign.summary(manager)
                + "; every State true at a Jolokia client " + Campaign.summary(client));
        Campaign.assertTruth(p, SETTLE);
    }

    /** The stand-in's flood pattern (lkvm-standin.c, flood()): every byte of it in the log, in order. */
    static void assertFloodLogged(byte[] log, long flood) {
        byte[] line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n".getBytes(StandardCharsets.US_ASCII);
        String text = new String(log, StandardCharsets.ISO_8859_1);
        int start = text.indexOf(new String(line, StandardCharsets.ISO_8859_1));
        assertTrue(start >= 0, "no flood line in the log");
        assertTrue(log.length - start >= flood, "flood logged from byte " + start + ": " + (log.length - start) + " of " + flood);
        for (int i = 0; i < flood; i++) {
            if (log[start + i] != line[i % line.length]) {
                throw new AssertionError("flood byte " + i + " of " + flood + " differs in the log (at " + (start + i) + ")");
            }
        }
    }

    private Object statusValue(String name, String key) throws Exception {
        java.util.Properties props = new java.util.Properties();
        try (var r = Files.newBufferedReader(p.runDir.resolve(name + ".status"))) {
            props.load(r);
        }
        return props.getProperty(key);
    }
}
