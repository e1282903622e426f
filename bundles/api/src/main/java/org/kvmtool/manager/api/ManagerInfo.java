package org.kvmtool.manager.api;

/**
 * The manager as a whole.
 *
 * @param uri        kvmtool:///system or kvmtool:///session
 * @param version    the manager's version
 * @param hypervisor the probed lkvm
 * @param cgroups    what the host's cgroups offer
 * @param lkvmUser   the user lkvm runs as (lkvm.user in system mode); null when lkvm runs as the manager's own
 *                   user (session mode)
 */
public record ManagerInfo(String uri, String version, HypervisorInfo hypervisor, CgroupSupport cgroups,
                          String lkvmUser) {
    /** lkvm runs as the manager's own user. */
    public ManagerInfo(String uri, String version, HypervisorInfo hypervisor, CgroupSupport cgroups) {
        this(uri, version, hypervisor, cgroups, null);
    }
}
