package org.kvmtool.manager.api;

import java.util.List;

/**
 * A domain's cgroup: one directory per hierarchy that holds one of our controllers (one on cgroup v2,
 * several on v1 or hybrid hosts). Plain data, so the driver can record it in a status file and find
 * the group again after a restart.
 *
 * @param name  the group's name under the parent (e.g. "vm1.kvmtool")
 * @param dirs  absolute directories of the group, one per hierarchy
 * @param unified true where {@code dirs} is a single cgroup v2 directory
 */
public record CgroupRef(String name, List<String> dirs, boolean unified) {
    public CgroupRef {
        dirs = List.copyOf(dirs);
    }
}
