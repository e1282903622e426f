package org.kvmtool.manager.cgroups;

import java.nio.file.Path;
import java.util.Set;

/**
 * One mounted hierarchy as this process sees it, and where it may create groups in it.
 *
 * @param mount       its mountinfo line
 * @param backend     v1 or v2
 * @param dir         the directory of the visible root (the mount point on this host)
 * @param ownDir      this process's own cgroup directory in it, or null when it is not below the mount
 * @param base        where groups are created: {@code dir} when writable (root), else the topmost writable
 *                    directory between {@code dir} and {@code ownDir} (a delegated subtree); null when none
 * @param controllers v1: those bound to the hierarchy; v2: those {@code base}'s cgroup.controllers offers
 * @param nested      the visible root is not the host's root: inside a container (cgroup namespace or a
 *                    bind-mounted subtree)
 * @param problem     why {@code base} is null
 */
record Hierarchy(CgroupMount mount, Backend backend, Path dir, Path ownDir, Path base, Set<String> controllers,
                 boolean nested, String problem) {
    Hierarchy {
        controllers = Set.copyOf(controllers);
    }

    /** "v1:/sys/fs/cgroup/memory", "v2:/sys/fs/cgroup". */
    String label() {
        return backend.version() + ":" + dir;
    }
}
