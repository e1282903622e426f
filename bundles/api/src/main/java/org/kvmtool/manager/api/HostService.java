package org.kvmtool.manager.api;

import java.util.List;
import java.util.Map;

/**
 * The host as libvirt's node and capability calls describe it, read from /proc and sysfs at each call (no
 * cache: free memory and CPU times change all the time, and a CPU may go offline). Every figure is what the
 * kernel says; nothing is estimated. Errors: INVALID_ARG for a CPU or cell that does not exist, SYSTEM_ERROR
 * naming the file for what the kernel does not let us read.
 */
public interface HostService {
    /** {@link #cpuStats} and {@link #memoryStats} of the whole host rather than one CPU or cell. */
    int ALL = -1;

    /** virNodeInfo: arch, memory, online CPUs, MHz and the topology (libvirt's rules, see {@link NodeInfo}). */
    NodeInfo nodeInfo();

    /** The CPUs present and those online. */
    CpuMap cpuMap();

    /** Free memory of the host in bytes (MemFree). */
    long freeMemoryBytes();

    /**
     * Free memory in bytes of the NUMA cells {@code startCell} to {@code startCell + maxCells - 1} (fewer when the
     * host has fewer); a host without NUMA is one cell, 0.
     */
    List<Long> cellsFreeMemory(int startCell, int maxCells);

    /**
     * libvirt's node CPU statistics of one CPU or of {@link #ALL}, in nanoseconds, in libvirt's order:
     * kernel (system + irq + softirq), user (user + nice), idle, iowait.
     */
    Map<String, Long> cpuStats(int cpu);

    /**
     * libvirt's node memory statistics in KiB: total, free, buffers, cached for {@link #ALL}; total, free for one
     * NUMA cell.
     */
    Map<String, Long> memoryStats(int cell);

    /**
     * The most vCPUs a kvmtool guest can have on this host: KVM's KVM_CAP_MAX_VCPUS (kvmtool limits a guest to it),
     * and on x86 at most the 255 CPUs that kvmtool's MP table lists.
     */
    int maxVcpus();

    /** libvirt's sysinfo XML (type smbios) from the DMI data the kernel exports; entries it cannot read are left out. */
    String sysinfoXml();

    /**
     * libvirt's capabilities XML: the host (CPU, NUMA cells, DAC security model of the user lkvm runs as) and, when
     * the hypervisor is available, one guest: hvm of the host's arch, domain type kvmtool, the configured lkvm.
     */
    String capabilitiesXml(ManagerInfo manager);

    /**
     * libvirt's domain capabilities XML for kvmtool guests. Each argument may be null for the default: the
     * configured lkvm, the host's arch, no machine type, domain type kvmtool. Anything else is refused with
     * INVALID_ARG saying what kvmtool takes.
     */
    String domainCapabilitiesXml(ManagerInfo manager, String emulator, String arch, String machine, String virtType);
}
