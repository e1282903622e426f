package org.kvmtool.manager.api;

/**
 * The manager as a whole.
 *
 * @param uri        kvmtool:///system or kvmtool:///session
 * @param version    the manager's version
 * @param hypervisor the probed lkvm
 * @param cgroups    what the host's cgroups offer
 */
public record ManagerInfo(String uri, String version, HypervisorInfo hypervisor, CgroupSupport cgroups) {
}
