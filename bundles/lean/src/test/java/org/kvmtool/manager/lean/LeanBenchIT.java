package org.kvmtool.manager.lean;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Benchmark harness, not a test (tag "bench", excluded by default): the same scenario on the lean runtime
 * and on the Karaf distribution, in the same run, printed as a table.
 * <ul>
 * <li>boot: from spawning the start script to the first successful Jolokia read of the Manager MBean
 * (first boot of a fresh instance, then the median of the following ones);</li>
 * <li>CPU: user+system time the manager's JVM had used at that moment (less sensitive to a busy machine
 * than wall time);</li>
 * <li>RSS of the manager's JVM 3 s after boot, and 5 s after 100 domains were defined and 10 started.</li>
 * </ul>
 * Run: {@code mvn -B -pl bundles/lean -am verify -Dgroups=bench -Dit.test=LeanBenchIT -Dtest=none
 * -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false} (the Karaf column needs
 * karaf-assembly/target/assembly; {@code -Dkvmtool.bench.boots=N} boots each runtime N times, default 4).
 */
@Tag("bench")
class LeanBenchIT {
    private static final int DOMAINS = 100;
    private static final int RUNNING = 10;
    private static final long TICK_MS = 10; // USER_HZ is 100 on Linux

    @TempDir
    Path tmp;

    /** One runtime as the harness drives it. */
    interface Target extends AutoCloseable {
        String name();

        /** Spawns the runtime and returns once the Manager MBean answers: the boot time. */
        Duration boot() throws Exception;

        Jolokia admin();

        long javaPid();

        void stop() throws Exception;
    }

    record Figures(String name, long firstBootMs, long bootMs, long cpuMs, long rssBootKiB, long rssDomainsKiB,
                   long heapDomainsKiB) {
    }

    @Test
    void leanVersusKaraf() throws Exception {
        int boots = Integer.getInteger("kvmtool.bench.boots", 4);
        List<Figures> rows = new ArrayList<>();
        try (Target lean = lean(tmp.resolve("lean"))) {
            rows.add(measure(lean, boots, tmp.resolve("lean")));
        }
        Path karafAssembly = Path.of(System.getProperty("kvmtool.karaf.dir", "none"));
        if (Files.isDirectory(karafAssembly.resolve("bin"))) {
            try (Target karaf = karaf(karafAssembly, tmp.resolve("karaf"))) {
                rows.add(measure(karaf, boots, tmp.resolve("karaf")));
            }
        } else {
            System.out.println("bench: no Karaf distribution at " + karafAssembly + " (mvn -pl karaf-assembly -am package): lean only");
        }
        print(rows, boots);
    }

    private Figures measure(Target t, int boots, Path dir) throws Exception {
        List<Long> times = new ArrayList<>();
        long cpu = 0;
        long rssBoot = 0;
        long[] domains = {-1, -1};
        for (int i = 0; i < boots; i++) {
            times.add(t.boot().toMillis());
            cpu = cpuMs(t.javaPid());
            Thread.sleep(3000);
            rssBoot = rssKiB(t.javaPid());
            if (i == boots - 1) {
                domains = domains(t, dir);
            }
            t.stop();
        }
        List<Long> later = new ArrayList<>(times.subList(Math.min(1, times.size() - 1), times.size()));
        later.sort(null);
        return new Figures(t.name(), times.get(0), later.get(later.size() / 2), cpu, rssBoot, domains[0], domains[1]);
    }

    /**
     * Defines 100 domains and starts 10 of them; the RSS and the heap in use (after a GC) 5 s later; then
     * destroys them again.
     */
    private long[] domains(Target t, Path dir) throws Exception {
        Path lkvm = LeanLifecycleIT.lkvm();
        if (!Files.isExecutable(lkvm) || !Files.isRegularFile(Path.of(System.getProperty("kvmtool.test.guest", "none")))) {
            System.out.println("bench: no lkvm stand-in or test guest: no domains measured");
            return new long[] {-1, -1};
        }
        Jolokia admin = t.admin();
        for (int i = 0; i < DOMAINS; i++) {
            admin.exec(LeanInstance.MANAGER, "defineDomain", LeanLifecycleIT.domainXml("b" + i)).value();
        }
        int running = 0;
        long rss;
        long heapUsed;
        try {
            for (int i = 0; i < RUNNING; i++) {
                Jolokia.Answer a = admin.exec(LeanLifecycleIT.domain("b" + i), "start");
                if (a.status() == 200) {
                    running++;
                } else {
                    System.out.println("bench: " + t.name() + ": b" + i + " did not start: " + a.error());
                }
            }
            Thread.sleep(5000);
            rss = rssKiB(t.javaPid());
            admin.exec("java.lang:type=Memory", "gc");
            Map<?, ?> heap = (Map<?, ?>) admin.read("java.lang:type=Memory", "HeapMemoryUsage").value();
            heapUsed = ((Number) heap.get("used")).longValue() / 1024;
        } finally {
            for (int i = 0; i < RUNNING; i++) {
                admin.exec(LeanLifecycleIT.domain("b" + i), "destroy");
            }
        }
        if (running != RUNNING) {
            System.out.println("bench: " + t.name() + ": only " + running + " of " + RUNNING + " domains ran");
        }
        return new long[] {rss, heapUsed};
    }

    private Target lean(Path dir) throws IOException {
        LeanInstance lean = new LeanInstance(LeanInstance.distribution(), dir.resolve("base"), manager(dir), rpc(dir));
        return new Target() {
            @Override
            public String name() {
                return "lean";
            }

            @Override
            public Duration boot() throws Exception {
                return lean.start(Duration.ofSeconds(120));
            }

            @Override
            public Jolokia admin() {
                return lean.admin();
            }

            @Override
            public long javaPid() {
                return lean.pid();
            }

            @Override
            public void stop() throws Exception {
                lean.stop(Duration.ofSeconds(60));
            }

            @Override
            public void close() throws Exception {
                lean.close();
            }
        };
    }

    private Target karaf(Path assembly, Path dir) throws Exception {
        Files.createDirectories(dir);
        KarafInstance karaf = new KarafInstance(assembly, dir.resolve("karaf"), manager(dir), rpc(dir));
        return new Target() {
            @Override
            public String name() {
                return "karaf";
            }

            @Override
            public Duration boot() throws Exception {
                long t0 = System.nanoTime();
                karaf.launch();
                Jolokia admin = karaf.admin();
                long deadline = t0 + Duration.ofMinutes(5).toNanos();
                while (System.nanoTime() < deadline && karaf.alive()) {
                    try {
                        if (admin.read(LeanInstance.MANAGER, "Version").status() == 200) {
                            return Duration.ofNanos(System.nanoTime() - t0);
                        }
                    } catch (ConnectException | HttpTimeoutException e) {
                        // not listening yet
                    }
                    Thread.sleep(10);
                }
                throw new IllegalStateException("Karaf did not answer for the Manager MBean");
            }

            @Override
            public Jolokia admin() {
                return karaf.admin();
            }

            @Override
            public long javaPid() {
                return karaf.java().orElseThrow().pid();
            }

            @Override
            public void stop() throws Exception {
                karaf.stop(Duration.ofSeconds(60));
            }

            @Override
            public void close() throws Exception {
                karaf.close();
            }
        };
    }

    private static Map<String, String> manager(Path dir) {
        return Map.of("uri", "kvmtool:///session", "config.dir", dir.resolve("config").toString(),
                "run.dir", dir.resolve("run").toString(), "log.dir", dir.resolve("log").toString(),
                "lkvm.binary", LeanLifecycleIT.lkvm().toString());
    }

    private static Map<String, String> rpc(Path dir) {
        return Map.of("socket", dir.resolve("rpc.sock").toString());
    }

    static long cpuMs(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // after "pid (comm) ": field 3 is f[0]; utime and stime are fields 14 and 15
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_MS;
    }

    static long rssKiB(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IOException("no VmRSS for " + pid);
    }

    private static void print(List<Figures> rows, int boots) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%nbench: lean vs Karaf, %d boots each, load average %s, %d CPUs%n", boots,
                Files.readString(Path.of("/proc/loadavg")).trim(), Runtime.getRuntime().availableProcessors()));
        b.append(String.format(Locale.ROOT, "| %-6s | %14s | %19s | %16s | %20s | %30s | %18s |%n", "", "first boot ms",
                "boot ms (median)", "CPU at ready ms", "RSS after boot MiB", "RSS 100 domains, 10 running MiB",
                "heap used then MiB"));
        for (Figures f : rows) {
            b.append(String.format(Locale.ROOT, "| %-6s | %14d | %19d | %16d | %20.1f | %30s | %18s |%n", f.name(),
                    f.firstBootMs(), f.bootMs(), f.cpuMs(), f.rssBootKiB() / 1024.0, mib(f.rssDomainsKiB()),
                    mib(f.heapDomainsKiB())));
        }
        if (rows.size() == 2) {
            Figures l = rows.get(0);
            Figures k = rows.get(1);
            b.append(String.format(Locale.ROOT, "| %-6s | %14.1f | %19.1f | %16.1f | %20.1f | %30s | %18s |%n", "K/L",
                    ratio(k.firstBootMs(), l.firstBootMs()), ratio(k.bootMs(), l.bootMs()), ratio(k.cpuMs(), l.cpuMs()),
                    ratio(k.rssBootKiB(), l.rssBootKiB()),
                    l.rssDomainsKiB() > 0 && k.rssDomainsKiB() > 0
                            ? String.format(Locale.ROOT, "%.1f", ratio(k.rssDomainsKiB(), l.rssDomainsKiB())) : "n/a",
                    l.heapDomainsKiB() > 0 && k.heapDomainsKiB() > 0
                            ? String.format(Locale.ROOT, "%.1f", ratio(k.heapDomainsKiB(), l.heapDomainsKiB())) : "n/a"));
        }
        System.out.println(b);
    }

    private static String mib(long kib) {
        return kib < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", kib / 1024.0);
    }

    private static double ratio(long a, long b) {
        return b == 0 ? Double.NaN : (double) a / b;
    }
}
