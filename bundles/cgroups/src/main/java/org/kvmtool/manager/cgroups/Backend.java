package org.kvmtool.manager.cgroups;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * What differs between a cgroup v1 hierarchy and the cgroup v2 one: preparing the parent and the files that
 * hold each figure. Creating, joining and removing a group are the same on both (mkdir, cgroup.procs, rmdir).
 * Every method takes the group's directory in this backend's hierarchy.
 */
interface Backend {
    /** "v1" or "v2", as {@link org.kvmtool.manager.api.CgroupSupport} shows it. */
    String version();

    /**
     * Creates the parent's directories under {@code base} and makes {@code controllers} available to groups
     * below it (v2: cgroup.subtree_control of every level); returns the parent directory.
     */
    Path prepareParent(Path base, List<String> parent, Set<String> controllers);

    long cpuTimeNanos(Path group);

    long memoryUsageBytes(Path group);

    /** -1 when unlimited. */
    long memoryLimitBytes(Path group);

    /** cgroup v1 style shares. */
    long cpuShares(Path group);

    void setCpuShares(Path group, long shares);

    /** {@code bytes} < 0: unlimited. */
    void setMemoryLimit(Path group, long bytes);
}
