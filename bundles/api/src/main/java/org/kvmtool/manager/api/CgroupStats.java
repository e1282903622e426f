package org.kvmtool.manager.api;

import java.util.List;

/**
 * Accounting figures of one domain.
 *
 * @param cpuTimeNanos      total CPU time of the group (or the process when {@code source} is PROC)
 * @param memoryUsageBytes  memory in use, without page cache where v1 counts it
 * @param memoryLimitBytes  the hard limit, -1 when unlimited or unknown
 * @param cpuShares         the cgroup v1 style shares (v2 weight converted back), -1 when unknown
 * @param vcpuTimesNanos    per-vCPU CPU time from the kvm-vcpu-N threads, index = vCPU number
 * @param source            where the figures come from
 */
public record CgroupStats(long cpuTimeNanos, long memoryUsageBytes, long memoryLimitBytes, long cpuShares,
                          List<Long> vcpuTimesNanos, Source source) {
    public CgroupStats {
        vcpuTimesNanos = List.copyOf(vcpuTimesNanos);
    }

    public enum Source {
        /** read from the domain's cgroup */
        CGROUP,
        /** no usable cgroup (e.g. session mode without delegation): per-process figures from /proc */
        PROC
    }
}
