package org.kvmtool.manager.cgroups;

import java.nio.file.Path;

/**
 * Where this host's cgroup facts live. The real host uses {@link #system()}; tests point every root at a
 * fixture tree, so detection and the backends run unchanged against pure v1, hybrid, unified, systemd,
 * container and cgroup-less layouts.
 *
 * @param mountinfo  /proc/self/mountinfo
 * @param selfCgroup /proc/self/cgroup
 * @param cgroupRoot the directory standing for /sys/fs/cgroup: mount points written under /sys/fs/cgroup in
 *                   {@code mountinfo} are re-rooted here
 * @param proc       /proc, for per-process figures (stat, status, task/TID/comm)
 */
record HostPaths(Path mountinfo, Path selfCgroup, Path cgroupRoot, Path proc) {
    static final String SYS_FS_CGROUP = "/sys/fs/cgroup";

    static HostPaths system() {
        return new HostPaths(Path.of("/proc/self/mountinfo"), Path.of("/proc/self/cgroup"),
                Path.of(SYS_FS_CGROUP), Path.of("/proc"));
    }

    /** The directory on this host of a mount point as mountinfo writes it. */
    Path translate(String mountPoint) {
        if (mountPoint.equals(SYS_FS_CGROUP)) {
            return cgroupRoot;
        }
        if (mountPoint.startsWith(SYS_FS_CGROUP + "/")) {
            return cgroupRoot.resolve(mountPoint.substring(SYS_FS_CGROUP.length() + 1));
        }
        return Path.of(mountPoint);
    }
}
