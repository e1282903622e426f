package org.kvmtool.manager.jmx;

import org.kvmtool.manager.api.NodeInfo;

/**
 * {@code kvmtool:type=Host}: the host as libvirt's node calls describe it, read at each access. Attributes only, so
 * that a viewer may read all of it (etc/jmx.acl.kvmtool.cfg: get* for viewers). An addition to the contract.
 */
public interface HostMXBean {
    /** virNodeInfo: model (the arch), memoryKiB, cpus (online), mhz, nodes, sockets, cores, threads. */
    NodeInfo getNodeInfo();

    long getFreeMemoryBytes();

    /** The most vCPUs a kvmtool guest can have here. */
    int getMaxVcpus();

    /** libvirt's capabilities XML (virsh capabilities). */
    String getCapabilities();

    /** libvirt's domain capabilities XML for kvmtool guests (virsh domcapabilities). */
    String getDomainCapabilities();

    /** The host's SMBIOS data as libvirt's sysinfo XML (virsh sysinfo). */
    String getSysinfo();
}
