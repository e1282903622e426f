package org.kvmtool.manager.cgroups;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.CgroupRef;

/**
 * Not a test: a harness that prints what reading the figures of 200 domains costs through the service, next to
 * bare reads (open, one read into a reused buffer, close; no parsing) of the same files in the same run.
 * Excluded from the default build; run it with
 * {@code mvn -B -o -pl bundles/cgroups -am verify -Dgroups=bench -Dcgroups.excludedGroups=none}.
 */
@Tag("bench")
class StatsBenchmark {
    private static final int GROUPS = 200;
    private static final int WARMUP = 30;
    private static final int ROUNDS = 200;

    @Test
    void statsOf200GroupsAgainstRawReads() throws IOException {
        assumeTrue(RealProcesses.root(), "needs root to create 200 cgroups");
        CgroupServiceImpl service = new CgroupServiceImpl(HostPaths.system(), Duration.ofSeconds(5));
        assumeTrue(service.support().usable(), service.support().reason());
        String parent = RealProcesses.uniqueParent();
        try {
            List<CgroupRef> refs = new ArrayList<>();
            for (int i = 0; i < GROUPS; i++) {
                refs.add(service.create(parent, "bench" + i));
            }
            List<Path> all = new ArrayList<>();
            List<Path> accounting = new ArrayList<>();
            for (CgroupRef ref : refs) {
                files(service, ref, all, accounting);
            }
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            long sink = 0;
            long[] stats = new long[ROUNDS];
            long[] raw = new long[ROUNDS];
            long[] accountingOnly = new long[ROUNDS];
            for (int round = 0; round < WARMUP + ROUNDS; round++) {
                // interleaved, so that the load of this shared machine hits all three alike
                long t0 = System.nanoTime();
                for (CgroupRef ref : refs) {
                    sink += service.stats(ref, 0).cpuTimeNanos();
                }
                long t1 = System.nanoTime();
                sink += readAll(all, buffer);
                long t2 = System.nanoTime();
                sink += readAll(accounting, buffer);
                long t3 = System.nanoTime();
                if (round >= WARMUP) {
                    stats[round - WARMUP] = t1 - t0;
                    raw[round - WARMUP] = t2 - t1;
                    accountingOnly[round - WARMUP] = t3 - t2;
                }
            }
            System.out.printf("layout %s, %d groups, %d rounds after %d warm-up rounds (checksum %d); median (p10) per "
                    + "round:%n", service.support().layout(), GROUPS, ROUNDS, WARMUP, sink);
            long statsMedian = percentile(stats, 50);
            report("service stats(): all figures", stats, all.size() / GROUPS, statsMedian);
            report("raw reads of the same files", raw, all.size() / GROUPS, statsMedian);
            report("raw reads, CPU time + memory usage files only", accountingOnly, accounting.size() / GROUPS,
                    statsMedian);
        } finally {
            for (Hierarchy h : service.layout().used()) {
                RealProcesses.removeTree(h.base().resolve(parent));
            }
        }
    }

    private static void report(String what, long[] rounds, int filesPerGroup, long statsMedian) {
        long median = percentile(rounds, 50);
        System.out.printf("  %-46s %6.2f ms (%6.2f) per %d groups = %6.1f us per group (%d files); stats()/this %.2f%n",
                what, median / 1e6, percentile(rounds, 10) / 1e6, GROUPS, median / (double) GROUPS / 1e3,
                filesPerGroup, statsMedian / (double) median);
    }

    private static long percentile(long[] values, int p) {
        long[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, sorted.length * p / 100)];
    }

    /** The files stats() reads for a group, and those holding CPU time and memory usage alone. */
    private static void files(CgroupServiceImpl service, CgroupRef ref, List<Path> all, List<Path> accounting) {
        Path cpuacct = dir(service, ref, "cpuacct");
        Path memory = dir(service, ref, "memory");
        Path cpu = dir(service, ref, "cpu");
        boolean v2 = service.layout().byController().get("memory").backend().version().equals("v2");
        List<Path> acc = v2
                ? List.of(cpuacct.resolve("cpu.stat"), memory.resolve("memory.current"))
                : List.of(cpuacct.resolve("cpuacct.usage"), memory.resolve("memory.usage_in_bytes"),
                        memory.resolve("memory.stat"));
        accounting.addAll(acc);
        all.addAll(acc);
        all.add(memory.resolve(v2 ? "memory.max" : "memory.limit_in_bytes"));
        all.add(cpu.resolve(v2 ? "cpu.weight" : "cpu.shares"));
    }

    private static Path dir(CgroupServiceImpl service, CgroupRef ref, String controller) {
        Hierarchy h = service.layout().byController().get(controller);
        return ref.dirs().stream().map(Path::of).filter(d -> service.layout().holding(d) == h).findFirst().orElseThrow();
    }

    private static long readAll(List<Path> files, ByteBuffer buffer) throws IOException {
        long total = 0;
        for (Path f : files) {
            try (FileChannel channel = FileChannel.open(f, StandardOpenOption.READ)) {
                buffer.clear();
                while (channel.read(buffer) > 0) {
                    // one read fits every figure file
                }
                total += buffer.position();
            }
        }
        return total;
    }
}
