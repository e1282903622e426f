package org.kvmtool.manager.cgroups;

/**
 * cgroup v1 cpu.shares (2..262144, default 1024) against cgroup v2 cpu.weight (1..10000, default 100).
 *
 * <p>The map is the linear one of the OCI runtimes (runc's and crun's ConvertCPUSharesToCgroupV2Value):
 * {@code weight = 1 + ((shares - 2) * 9999) / 262142}, clamped to 1..10000, so that both ends of the v1 range
 * land on both ends of the v2 range. (libvirt itself writes the shares value into cpu.weight unchanged and
 * rejects values above 10000; systemd maps CPUShares= by shares * 100 / 1024. Note that with the linear map
 * the v1 default 1024 becomes weight 39, not v2's default 100.)
 *
 * <p>Round trip: the map loses precision (about 26 shares per weight step), so reading back gives the smallest
 * shares value that maps to the weight found, {@code 2 + ceil((weight - 1) * 262142 / 9999)}:
 * {@code toWeight(toShares(w)) == w} for every weight, and {@code toShares(toWeight(s))} is within 26 of
 * {@code s} (1024 -> 39 -> 999).
 */
final class CpuWeight {
    static final long MIN_SHARES = 2;
    static final long MAX_SHARES = 262_144;
    static final long MIN_WEIGHT = 1;
    static final long MAX_WEIGHT = 10_000;

    private CpuWeight() {
    }

    static long toWeight(long shares) {
        long s = Math.max(MIN_SHARES, Math.min(MAX_SHARES, shares));
        return clamp(1 + ((s - 2) * 9999) / 262_142, MIN_WEIGHT, MAX_WEIGHT);
    }

    static long toShares(long weight) {
        long w = clamp(weight, MIN_WEIGHT, MAX_WEIGHT);
        return 2 + ((w - 1) * 262_142 + 9998) / 9999;
    }

    private static long clamp(long v, long min, long max) {
        return Math.max(min, Math.min(max, v));
    }
}
