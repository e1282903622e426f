package org.kvmtool.manager.cgroups;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** cgroup v1: one hierarchy per controller (or a few comounted, like cpu,cpuacct). */
final class V1Backend implements Backend {
    /**
     * v1 shows "no limit" as PAGE_COUNTER_MAX pages: 9223372036854771712 with 4 KiB pages, a little less with
     * larger pages. Anything from 2^62 up is that.
     */
    static final long UNLIMITED_FROM = 1L << 62;

    @Override
    public String version() {
        return "v1";
    }

    @Override
    public Path prepareParent(Path base, List<String> parent, Set<String> controllers) {
        Path dir = base;
        for (String segment : parent) {
            dir = dir.resolve(segment);
            CgroupFs.mkdir(dir);
        }
        return dir;
    }

    @Override
    public long cpuTimeNanos(Path group) {
        return CgroupFs.readLong(group.resolve("cpuacct.usage"));
    }

    /**
     * usage_in_bytes counts the page cache the guest's I/O caused; like libvirt and docker, report it without
     * (total_cache where the hierarchy is used, else cache).
     */
    @Override
    public long memoryUsageBytes(Path group) {
        long usage = CgroupFs.readLong(group.resolve("memory.usage_in_bytes"));
        String stat = CgroupFs.read(group.resolve("memory.stat"));
        long cache = CgroupFs.keyed(stat, "total_cache", -1);
        if (cache < 0) {
            cache = CgroupFs.keyed(stat, "cache", 0);
        }
        return Math.max(0, usage - cache);
    }

    @Override
    public long memoryLimitBytes(Path group) {
        long limit = CgroupFs.readLong(group.resolve("memory.limit_in_bytes"));
        return limit >= UNLIMITED_FROM ? -1 : limit;
    }

    @Override
    public long cpuShares(Path group) {
        return CgroupFs.readLong(group.resolve("cpu.shares"));
    }

    @Override
    public void setCpuShares(Path group, long shares) {
        CgroupFs.write(group.resolve("cpu.shares"), Long.toString(shares));
    }

    @Override
    public void setMemoryLimit(Path group, long bytes) {
        CgroupFs.write(group.resolve("memory.limit_in_bytes"), bytes < 0 ? "-1" : Long.toString(bytes));
    }
}
