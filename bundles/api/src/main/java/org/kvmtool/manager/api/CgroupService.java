package org.kvmtool.manager.api;

import java.util.Optional;

/**
 * Per-domain cgroups behind one interface, cgroup v2 tried first, chosen per controller on hybrid hosts.
 * Errors are SYSTEM_ERROR naming the file and the errno text.
 */
public interface CgroupService {
    CgroupSupport support();

    /**
     * Creates (or reuses) the domain's group under {@code parent} (relative to each hierarchy's root,
     * e.g. "machine"), before spawn. Fails when {@link #support()} is not usable.
     */
    CgroupRef create(String parent, String domainName);

    /** The existing group of a domain, if any (for reattach). */
    Optional<CgroupRef> find(String parent, String domainName);

    /** The cgroup.procs files a child writes "0" into to join the group before it execs. */
    java.util.List<String> procsFiles(CgroupRef group);

    /** Moves a whole process (all threads) into the group. */
    void attach(CgroupRef group, long pid);

    /**
     * The figures for a domain. {@code group} may be null (no cgroup): then per-process figures of
     * {@code pid} from /proc. {@code pid} <= 0 means no process (per-vCPU times empty).
     */
    CgroupStats stats(CgroupRef group, long pid);

    /** cpu.shares (v1) or cpu.weight (v2, converted as systemd does). */
    void setCpuShares(CgroupRef group, long shares);

    /** memory.limit_in_bytes (v1) or memory.max (v2); {@code bytes} < 0 = unlimited. */
    void setMemoryLimit(CgroupRef group, long bytes);

    /** Removes the group, retrying briefly while the kernel reports it busy. Idempotent. */
    void remove(CgroupRef group);
}
