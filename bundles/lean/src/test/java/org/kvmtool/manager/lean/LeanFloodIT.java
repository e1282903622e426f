package org.kvmtool.manager.lean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's HTTP endpoint under a flood, as any local user can send one: requests without credentials, with
 * wrong ones, authenticated reads and lists as fast as they go, connections that send nothing and requests
 * that stop half-way. Meanwhile an administrator's read must answer every time, within {@link #PROBE_BOUND}; the
 * heap stays well inside the runtime's 64 MiB. The limits are the agent's executor (etc/jolokia-agent.properties:
 * executor, threadNr, backlog) and the JDK HTTP server's (bin/kvmtool-manager: maxConnections, maxReqTime,
 * maxRspTime).
 */
class LeanFloodIT {
    private static final String MEMORY = "java.lang:type=Memory";
    /** Flooding threads: each sends requests back to back on its own keep-alive connection. */
    private static final int FLOODERS = 48;
    /** Connections that send nothing (the server closes them after maxReqTime; they come back). */
    private static final int IDLE = Integer.getInteger("flood.idle", 500);
    /** Connections that send half a request and stop: each holds an agent thread until maxReqTime (3 s). */
    private static final int HALF = Integer.getInteger("flood.half", 8);
    private static final Duration PROBE_BOUND = Duration.ofSeconds(10);

    @TempDir
    static Path tmp;
    private static LeanInstance lean;

    @BeforeAll
    static void start() throws Exception {
        lean = LeanInstance.withoutLkvm(tmp);
        lean.start(Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() throws Exception {
        LeanInstance.stopAndClose(lean);
    }

    @Test
    void aFloodCannotStarveAnAuthenticatedRead() throws Exception {
        URI url = lean.awaitAgentUrl(Duration.ZERO);
        Duration length = Duration.ofSeconds(Long.getLong("flood.seconds", 20));
        AtomicBoolean stop = new AtomicBoolean();
        Map<String, AtomicLong> answers = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(FLOODERS + 2);
        List<Future<?>> flood = new ArrayList<>();
        List<Double> probes = Collections.synchronizedList(new ArrayList<>());
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        long heapBefore = heapAfterGc();
        try {
            for (int i = 0; i < FLOODERS; i++) {
                int kind = i % 4;
                flood.add(pool.submit(() -> {
                    Jolokia client = switch (kind) {
                        case 0 -> lean.anonymous();
                        case 1 -> lean.admin().as(LeanInstance.ADMIN, "wrong-password");
                        case 2 -> lean.viewer();
                        default -> lean.admin();
                    };
                    while (!stop.get()) {
                        try {
                            Jolokia.Answer a = kind == 3 ? client.post(Map.of("type", "list"))
                                    : client.read(MEMORY, "HeapMemoryUsage");
                            answers.computeIfAbsent(kind + ":" + a.status(), k -> new AtomicLong()).incrementAndGet();
                        } catch (IOException refused) {
                            answers.computeIfAbsent(kind + ":io", k -> new AtomicLong()).incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            flood.add(pool.submit(() -> holdConnections(url, IDLE, null, stop)));
            flood.add(pool.submit(() -> holdConnections(url, HALF, "GET /jolokia/read/" + MEMORY + " HTTP/1.1\r\nHost: x", stop)));
            long end = System.nanoTime() + length.toNanos();
            while (System.nanoTime() < end) {
                long t0 = System.nanoTime();
                try {
                    Jolokia.Answer a = lean.admin().read(MEMORY, "Verbose");
                    if (a.status() != 200) {
                        failures.add("status " + a.status() + ": " + a.body());
                    }
                } catch (IOException e) {
                    failures.add(e.toString());
                }
                probes.add((System.nanoTime() - t0) / 1e6);
                Thread.sleep(250);
            }
        } finally {
            stop.set(true);
            for (Future<?> f : flood) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }
        long t0 = System.nanoTime();
        assertEquals(200, lean.admin().read(MEMORY, "Verbose").status());
        double after = (System.nanoTime() - t0) / 1e6;
        long heapAfter = heapAfterGc();
        List<Double> sorted = new ArrayList<>(probes);
        Collections.sort(sorted);
        double p50 = sorted.get(sorted.size() / 2);
        double max = sorted.get(sorted.size() - 1);
        System.out.printf("FIGURE lean Jolokia flood %d s (%d threads: no credentials, wrong password, viewer reads, "
                        + "admin lists; %d idle and %d half-sent connections): %s; admin read p50 %.0f ms, max %.0f ms "
                        + "(%d probes, %d failed); %.0f ms after; heap in use %d -> %d KiB%n",
                length.toSeconds(), FLOODERS, IDLE, HALF, new java.util.TreeMap<>(answers), p50, max, probes.size(),
                failures.size(), after, heapBefore >> 10, heapAfter >> 10);
        assertTrue(failures.isEmpty(), "an admin read failed under the flood: " + failures);
        assertTrue(max < PROBE_BOUND.toMillis(), "an admin read took " + max + " ms under the flood");
        long served = answers.entrySet().stream().filter(e -> !e.getKey().endsWith(":io"))
                .mapToLong(e -> e.getValue().get()).sum();
        assertTrue(served > 1000, "the flood was served too: " + answers);
        assertTrue(after < 2000, "after the flood a read took " + after + " ms");
        assertTrue(heapAfter < 48L << 20, "heap in use after the flood: " + heapAfter);
    }

    /** Keeps {@code n} connections open, each sending {@code partial} (or nothing); reopens what the server closes. */
    private static Void holdConnections(URI url, int n, String partial, AtomicBoolean stop) throws InterruptedException {
        List<Socket> held = new ArrayList<>();
        try {
            while (!stop.get()) {
                held.removeIf(LeanFloodIT::closedByPeer);
                while (held.size() < n && !stop.get()) {
                    try {
                        Socket s = new Socket(url.getHost(), url.getPort());
                        s.setSoTimeout(1);
                        if (partial != null) {
                            OutputStream out = s.getOutputStream();
                            out.write(partial.getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                        }
                        held.add(s);
                    } catch (IOException refused) {
                        break;
                    }
                }
                Thread.sleep(100);
            }
        } finally {
            for (Socket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
        return null;
    }

    private static boolean closedByPeer(Socket s) {
        try {
            return s.getInputStream().read() < 0;
        } catch (java.net.SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException gone) {
            return true;
        }
    }

    private static long heapAfterGc() throws Exception {
        lean.admin().exec(MEMORY, "gc");
        Object usage = lean.admin().read(MEMORY, "HeapMemoryUsage").value();
        return ((Number) ((Map<?, ?>) usage).get("used")).longValue();
    }
}
