package org.kvmtool.manager.cgroups;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** cgroup v2: one tree; a controller reaches a group only when every ancestor enables it for its children. */
final class V2Backend implements Backend {
    @Override
    public String version() {
        return "v2";
    }

    /**
     * Enables the controllers ("+cpu +memory") in cgroup.subtree_control from the base down to the parent, each
     * level only where missing: a level may enable only what its own cgroup.controllers offers, so a
     * controller the level above did not delegate is reported as missing with the file that lacks it.
     */
    @Override
    public Path prepareParent(Path base, List<String> parent, Set<String> controllers) {
        Path dir = base;
        enable(dir, controllers);
        for (String segment : parent) {
            dir = dir.resolve(segment);
            CgroupFs.mkdir(dir);
            enable(dir, controllers);
        }
        return dir;
    }

    private static void enable(Path dir, Set<String> controllers) {
        if (controllers.isEmpty()) {
            return;
        }
        Set<String> enabled = words(CgroupFs.read(dir.resolve("cgroup.subtree_control")));
        Set<String> available = words(CgroupFs.read(dir.resolve("cgroup.controllers")));
        List<String> add = new ArrayList<>();
        for (String c : controllers.stream().sorted().toList()) {
            if (!enabled.contains(c)) {
                if (!available.contains(c)) {
                    throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cgroup controller '" + c
                            + "' is missing: not in " + dir.resolve("cgroup.controllers"));
                }
                add.add("+" + c);
            }
        }
        if (!add.isEmpty()) {
            CgroupFs.write(dir.resolve("cgroup.subtree_control"), String.join(" ", add));
        }
    }

    /** Space-separated words; a leading '+' (how a plain fixture file keeps what was written) is dropped. */
    static Set<String> words(String text) {
        Set<String> words = new HashSet<>();
        for (String w : Arrays.asList(text.trim().split("\\s+"))) {
            if (!w.isEmpty()) {
                words.add(w.startsWith("+") ? w.substring(1) : w);
            }
        }
        return words;
    }

    /** usage_usec is there on every v2 group (core accounting), with or without the cpu controller. */
    @Override
    public long cpuTimeNanos(Path group) {
        return CgroupFs.readKey(group.resolve("cpu.stat"), "usage_usec") * 1000;
    }

    @Override
    public long memoryUsageBytes(Path group) {
        return CgroupFs.readLong(group.resolve("memory.current"));
    }

    @Override
    public long memoryLimitBytes(Path group) {
        String max = CgroupFs.read(group.resolve("memory.max")).trim();
        if (max.equals("max")) {
            return -1;
        }
        try {
            return Long.parseLong(max);
        } catch (NumberFormatException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR,
                    "unexpected content in " + group.resolve("memory.max") + ": '" + max + "'", e);
        }
    }

    @Override
    public long cpuShares(Path group) {
        return CpuWeight.toShares(CgroupFs.readLong(group.resolve("cpu.weight")));
    }

    @Override
    public void setCpuShares(Path group, long shares) {
        CgroupFs.write(group.resolve("cpu.weight"), Long.toString(CpuWeight.toWeight(shares)));
    }

    @Override
    public void setMemoryLimit(Path group, long bytes) {
        CgroupFs.write(group.resolve("memory.max"), bytes < 0 ? "max" : Long.toString(bytes));
    }
}
