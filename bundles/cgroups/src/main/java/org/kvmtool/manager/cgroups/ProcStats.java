package org.kvmtool.manager.cgroups;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** Per-process and per-thread figures from /proc (the root is a constructor parameter). */
final class ProcStats {
    /**
     * /proc reports times in USER_HZ ticks, which the kernel ABI fixes at 100 on every architecture we run
     * on (sysconf(_SC_CLK_TCK)); reading it needs no native call.
     */
    static final long NANOS_PER_TICK = 1_000_000_000L / 100;
    private static final Pattern VCPU = Pattern.compile("kvm-vcpu-(\\d+)");

    private final Path proc;

    ProcStats(Path proc) {
        this.proc = proc;
    }

    /** "PID (comm) STATE" from /proc/PID/stat, or "PID (gone)": who keeps a cgroup busy, for an error message. */
    String describe(long pid) {
        try {
            String stat = CgroupFs.read(proc.resolve(Long.toString(pid)).resolve("stat"));
            int close = stat.lastIndexOf(')');
            return pid + " " + stat.substring(stat.indexOf('('), close + 1) + " " + stat.substring(close + 2, close + 3);
        } catch (RuntimeException e) {
            return pid + " (gone)";
        }
    }

    /** utime + stime of the whole process (all its threads, live and ended), in ns. */
    long cpuTimeNanos(long pid) {
        return statTicks(CgroupFs.read(proc.resolve(Long.toString(pid)).resolve("stat"))) * NANOS_PER_TICK;
    }

    /** Resident set size (VmRSS of /proc/PID/status) in bytes; 0 for a process without memory (zombie). */
    long rssBytes(long pid) {
        Path status = proc.resolve(Long.toString(pid)).resolve("status");
        for (String line : CgroupFs.read(status).split("\n")) {
            if (line.startsWith("VmRSS:")) {
                String[] f = line.substring("VmRSS:".length()).trim().split("\\s+");
                return Long.parseLong(f[0]) * 1024;
            }
        }
        return 0;
    }

    /**
     * CPU time of each vCPU thread (comm "kvm-vcpu-N"), index N; an index with no thread (not started yet,
     * or ended) is -1. Threads that end while we read are skipped.
     */
    List<Long> vcpuTimesNanos(long pid) {
        Path tasks = proc.resolve(Long.toString(pid)).resolve("task");
        TreeMap<Integer, Long> times = new TreeMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(tasks)) {
            for (Path task : dir) {
                try {
                    Matcher m = VCPU.matcher(CgroupFs.readRaw(task.resolve("comm")).trim());
                    if (m.matches()) {
                        times.put(Integer.parseInt(m.group(1)),
                                statTicks(CgroupFs.readRaw(task.resolve("stat"))) * NANOS_PER_TICK);
                    }
                } catch (NoSuchFileException e) {
                    // the thread ended between the listing and the read
                }
            }
        } catch (NoSuchFileException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "no process " + pid + " (" + tasks + ")", e);
        } catch (IOException e) {
            throw CgroupFs.error("cannot read " + tasks, e);
        }
        List<Long> result = new ArrayList<>();
        if (!times.isEmpty()) {
            for (int i = 0; i <= times.lastKey(); i++) {
                result.add(times.getOrDefault(i, -1L));
            }
        }
        return result;
    }

    /** utime + stime (fields 14 and 15) of a stat line; the comm in parentheses may hold spaces and ')'. */
    static long statTicks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        // f[0] is field 3 (state): utime is field 14, stime field 15
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
