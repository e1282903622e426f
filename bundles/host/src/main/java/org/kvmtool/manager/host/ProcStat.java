package org.kvmtool.manager.host;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The CPU lines of /proc/stat as libvirt's node CPU statistics. */
final class ProcStat {
    /**
     * /proc/stat counts in USER_HZ ticks, which the kernel ABI fixes at 100 on every architecture kvmtool runs on
     * (sysconf(_SC_CLK_TCK)); no native call is needed to read it.
     */
    static final long NANOS_PER_TICK = 1_000_000_000L / 100;

    private ProcStat() {
    }

    /**
     * kernel = system + irq + softirq, user = user + nice, idle, iowait, in ns (libvirt's fields and sums), for the
     * "cpu" line ({@code cpu} < 0) or "cpuN"; empty when there is no such line.
     */
    static Optional<Map<String, Long>> cpu(String text, int cpu) {
        String header = cpu < 0 ? "cpu" : "cpu" + cpu;
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 5 || !f[0].equals(header)) {
                continue;
            }
            long user = at(f, 1);
            long nice = at(f, 2);
            long system = at(f, 3);
            long idle = at(f, 4);
            long iowait = at(f, 5);
            long irq = at(f, 6);
            long softirq = at(f, 7);
            Map<String, Long> stats = new LinkedHashMap<>();
            stats.put("kernel", (system + irq + softirq) * NANOS_PER_TICK);
            stats.put("user", (user + nice) * NANOS_PER_TICK);
            stats.put("idle", idle * NANOS_PER_TICK);
            stats.put("iowait", iowait * NANOS_PER_TICK);
            return Optional.of(stats);
        }
        return Optional.empty();
    }

    private static long at(String[] f, int i) {
        return i < f.length ? Long.parseLong(f[i]) : 0;
    }
}
