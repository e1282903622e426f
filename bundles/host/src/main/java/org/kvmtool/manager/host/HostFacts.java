package org.kvmtool.manager.host;

import java.util.List;

import org.kvmtool.manager.api.NodeInfo;

/**
 * One reading of everything the capabilities XML describes of the host.
 *
 * @param uuid the host UUID, or null when neither DMI nor /etc/machine-id gives one
 */
record HostFacts(String arch, CpuInfo cpu, NodeInfo node, List<Cell> cells, List<HostCpu> cpus, int basePageKiB,
                 List<Integer> hugepageSizes, String uuid) {
    HostFacts {
        cells = List.copyOf(cells);
        cpus = List.copyOf(cpus);
        hugepageSizes = List.copyOf(hugepageSizes);
    }

    static HostFacts read(HostReader r) {
        String arch = r.arch();
        CpuInfo cpu = r.cpuInfo();
        List<Cell> cells = r.cells();
        List<HostCpu> cpus = r.cpus();
        NodeInfo node = Topology.nodeInfo(arch, r.memInfo().getOrDefault("MemTotal", 0L), cpu.mhz(), cells, cpus);
        return new HostFacts(arch, cpu, node, cells, cpus, r.pageSizeKiB(), r.hugepageSizes(),
                r.hostUuid().orElse(null));
    }

    /** libvirt's word size of an arch. */
    static int wordsize(String arch) {
        return switch (arch) {
            case "i686", "armv6l", "armv7l", "riscv32", "ppc", "mips", "mipsel" -> 32;
            case "s390" -> 31;
            default -> 64;
        };
    }
}
