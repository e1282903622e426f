package org.kvmtool.manager.console;

import com.sun.management.OperatingSystemMXBean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ConsoleListener;
import org.kvmtool.manager.api.Pty;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark harness, not a test (tagged "bench", excluded by default). A guest floods its console; the
 * figures are the console's throughput and CPU per MiB against a plain {@code cat /dev/pts/N > file} of
 * the same kind of pty in the same run. Run:
 * {@code mvn -B -q -o -pl bundles/console -am verify -Dgroups=bench -Dbench.exclude=none}
 * (sizes: {@code -Dconsole.bench.mib=64 -Dconsole.bench.rounds=3}).
 */
@Tag("bench")
class ConsoleBench {
    private static final long CLOCK_TICKS_PER_SECOND = 100; // USER_HZ, what /proc/PID/stat counts in
    private static final Duration WAIT = Duration.ofMinutes(5);

    @TempDir
    Path tmp;

    record Run(String what, double seconds, double consumerCpuSeconds, double processCpuSeconds, double writerSeconds) {
    }

    @Test
    void throughputAndCpuPerMiB() throws Exception {
        int mib = Integer.getInteger("console.bench.mib", 64);
        int rounds = Integer.getInteger("console.bench.rounds", 3);
        int n = mib << 20;
        List<Run> runs = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            runs.add(cat(n, round));
            runs.add(manager(n, round, false));
            runs.add(manager(n, round, true));
        }
        System.out.printf("%nconsole bench: %d MiB flood per run, median of %d rounds (%d CPUs)%n", mib, rounds,
                Runtime.getRuntime().availableProcessors());
        System.out.printf("%-34s %8s %14s %16s %12s%n", "consumer", "MiB/s", "CPU ms/MiB", "proc CPU ms/MiB", "writer MiB/s");
        double catRate = 0;
        double catCpu = 0;
        for (String what : List.of("cat /dev/pts/N > file", "manager (log, no reader)", "manager (log + 1 reader)")) {
            List<Run> mine = runs.stream().filter(r -> r.what().equals(what)).toList();
            double rate = median(mine.stream().mapToDouble(r -> mib / r.seconds()).toArray());
            double cpu = median(mine.stream().mapToDouble(r -> r.consumerCpuSeconds() * 1000 / mib).toArray());
            double proc = median(mine.stream().mapToDouble(r -> r.processCpuSeconds() * 1000 / mib).toArray());
            double writer = median(mine.stream().mapToDouble(r -> mib / r.writerSeconds()).toArray());
            if (catRate == 0) {
                catRate = rate;
                catCpu = cpu;
            }
            System.out.printf("%-34s %8.1f %14.2f %16s %12.1f   (x%.2f the throughput, x%.2f the CPU of cat)%n",
                    what, rate, cpu, proc < 0 ? "-" : String.format("%.2f", proc), writer, rate / catRate, cpu / catCpu);
        }
        System.out.println("CPU ms/MiB: cat's own CPU (utime+stime) / the drain thread's CPU; proc CPU: the whole"
                + " manager JVM (drain + delivery + GC + JIT + this harness polling)");
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private Run manager(int n, int round, boolean withReader) throws Exception {
        ConsoleServiceImpl consoles = new ConsoleServiceImpl(ConsoleServiceTest.DEFAULTS);
        Path report = tmp.resolve("m" + round + withReader + ".report");
        try (Guest g = Guest.fake(consoles, tmp, "--flood", Integer.toString(n), "--report", report.toString())) {
            String domain = "bench";
            Path log = tmp.resolve("m" + round + withReader + ".log");
            consoles.open(domain, g.slavePath, g.pid(), log.toString(), 8L << 20);
            ConsoleServiceTest.await("banner", () -> ConsoleServiceTest.tailText(consoles, domain)
                    .contains(FakeGuest.BANNER), WAIT);
            AtomicLong counted = new AtomicLong();
            if (withReader) {
                consoles.subscribe(domain, new ConsoleListener() {
                    @Override
                    public void output(byte[] data) {
                        counted.addAndGet(data.length);
                    }
                });
            }
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long drain0 = threads.getThreadCpuTime(consoles.drainThreadId());
            long proc0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            consoles.write(domain, "f".getBytes(StandardCharsets.US_ASCII));
            byte[] end = FakeGuest.FLOOD_END.getBytes(StandardCharsets.US_ASCII);
            ConsoleServiceTest.await("the flood's end", () -> Arrays.equals(consoles.tail(domain, end.length), end), WAIT);
            long t1 = System.nanoTime();
            long drain1 = threads.getThreadCpuTime(consoles.drainThreadId());
            long proc1 = os.getProcessCpuTime();
            if (withReader) {
                long expected = n + FakeGuest.FLOOD_BEGIN.length() + end.length;
                ConsoleServiceTest.await("the reader", () -> counted.get() == expected, WAIT);
            }
            ConsoleServiceTest.await("the guest's report", () -> ConsoleServiceTest.size(report) > 0, WAIT);
            return new Run(withReader ? "manager (log + 1 reader)" : "manager (log, no reader)", (t1 - t0) / 1e9,
                    (drain1 - drain0) / 1e9, (proc1 - proc0) / 1e9, writerSeconds(report));
        } finally {
            consoles.deactivate();
        }
    }

    private Run cat(int n, int round) throws Exception {
        ConsoleServiceImpl allocator = new ConsoleServiceImpl(ConsoleServiceTest.DEFAULTS); // for allocate() only
        Path report = tmp.resolve("c" + round + ".report");
        Process cat = null;
        try (Guest g = Guest.fake(allocator, tmp, "--flood", Integer.toString(n), "--report", report.toString())) {
            Path out = tmp.resolve("c" + round + ".out");
            cat = new ProcessBuilder("cat", g.slavePath).redirectOutput(out.toFile()).start();
            ConsoleServiceTest.await("banner", () -> ConsoleServiceTest.size(out) >= FakeGuest.BANNER.length(), WAIT);
            long total = FakeGuest.floodStream(0).length + (long) n;
            long cpu0 = cpuTicks(cat.pid());
            long t0 = System.nanoTime();
            poke(g.slavePath);
            ConsoleServiceTest.await("cat", () -> ConsoleServiceTest.size(out) >= total, WAIT);
            long t1 = System.nanoTime();
            long cpu1 = cpuTicks(cat.pid());
            ConsoleServiceTest.await("the guest's report", () -> ConsoleServiceTest.size(report) > 0, WAIT);
            Files.delete(out);
            return new Run("cat /dev/pts/N > file", (t1 - t0) / 1e9, (cpu1 - cpu0) / (double) CLOCK_TICKS_PER_SECOND,
                    -1, writerSeconds(report));
        } finally {
            if (cat != null) {
                cat.destroyForcibly().waitFor();
            }
            allocator.deactivate();
        }
    }

    /** Sends the guest its flood command through a slave descriptor of our own (cat has the other). */
    private static void poke(String slavePath) throws ErrnoException {
        Posix posix = new Posix();
        int fd = posix.open(slavePath, Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC);
        try {
            posix.write(fd, new byte[] {'f'}, 0, 1);
        } finally {
            posix.close(fd);
        }
    }

    /** utime + stime of a process, in clock ticks. */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
    }

    private static double writerSeconds(Path report) throws IOException {
        return Long.parseLong(Files.readString(report).trim()) / 1e9;
    }
}
