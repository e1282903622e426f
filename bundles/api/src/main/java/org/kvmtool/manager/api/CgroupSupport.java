package org.kvmtool.manager.api;

import java.util.Map;

/**
 * What the host offers: the layout ("unified", "legacy", "hybrid", "none"), which hierarchy holds each
 * controller we use (cpu, cpuacct, memory; value "v1:/sys/fs/cgroup/memory" or "v2:/sys/fs/cgroup"),
 * and whether the manager can create groups there; if not, {@code reason} says why (shown by the MBean).
 */
public record CgroupSupport(String layout, Map<String, String> controllers, boolean usable, String reason) {
    public CgroupSupport {
        controllers = Map.copyOf(controllers);
    }
}
