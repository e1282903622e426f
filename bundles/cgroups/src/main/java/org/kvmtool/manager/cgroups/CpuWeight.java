package org.kvmtool.manager.cgroups;

/**
 * cgroup v1 cpu.shares (2..262144, default 1024) against cgroup v2 cpu.weight (1..10000, default 100).
 *
 * <p>The map is systemd's (CPUShares= to CPUWeight=): {@code weight = shares * 100 / 1024}, clamped to
 * 1..10000, so the defaults meet (1024 <-> 100) and a ratio between two domains' shares is kept as the same
 * ratio of weights; shares above 102,400 saturate at weight 10000. (The OCI runtimes map the
 * two ranges end to end instead, which turns the default 1024 into weight 39; libvirt writes the number
 * unchanged.)
 *
 * <p>Round trip: reading back gives the smallest shares value that maps to the weight found,
 * {@code ceil(weight * 1024 / 100)}: {@code toWeight(toShares(w)) == w} for every weight, and 1024 -> 100 -> 1024.
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
        return clamp(s * 100 / 1024, MIN_WEIGHT, MAX_WEIGHT);
    }

    static long toShares(long weight) {
        long w = clamp(weight, MIN_WEIGHT, MAX_WEIGHT);
        return (w * 1024 + 99) / 100;
    }

    private static long clamp(long v, long min, long max) {
        return Math.max(min, Math.min(max, v));
    }
}
