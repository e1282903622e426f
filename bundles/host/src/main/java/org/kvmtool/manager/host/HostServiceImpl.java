package org.kvmtool.manager.host;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;
import java.util.logging.Logger;

import org.kvmtool.manager.api.CpuMap;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.HostService;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ManagerInfo;
import org.kvmtool.manager.api.NodeInfo;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * The host's facts from /proc and sysfs, read at each call. KVM's vCPU limit is asked once, at activation: it is a
 * property of the kernel. Infrastructure, hence immediate: it outlives every driver restart.
 */
@Component(service = HostService.class, immediate = true)
public final class HostServiceImpl implements HostService {
    private static final Logger LOG = Logger.getLogger(HostServiceImpl.class.getName());

    private final HostReader host;
    private final VcpuLimit vcpus;

    @Activate
    public HostServiceImpl() {
        this(HostPaths.system(), KvmDevice::maxVcpus);
    }

    HostServiceImpl(HostPaths paths, Function<Path, OptionalInt> kvmMaxVcpus) {
        this.host = new HostReader(paths);
        this.vcpus = VcpuLimit.of(host.arch(), kvmMaxVcpus.apply(paths.devKvm()));
        LOG.info(() -> "host: " + host.arch() + ", at most " + vcpus.max() + " vCPUs per guest (" + vcpus.source() + ")");
    }

    @Override
    public NodeInfo nodeInfo() {
        return Topology.nodeInfo(host.arch(), host.memInfo().getOrDefault("MemTotal", 0L), host.cpuInfo().mhz(),
                host.cells(), host.cpus());
    }

    @Override
    public CpuMap cpuMap() {
        List<Integer> present = host.present();
        return new CpuMap(present.isEmpty() ? 0 : present.get(present.size() - 1) + 1, host.online());
    }

    @Override
    public long freeMemoryBytes() {
        return host.memInfo().getOrDefault("MemFree", 0L) * 1024;
    }

    @Override
    public List<Long> cellsFreeMemory(int startCell, int maxCells) {
        if (startCell < 0 || maxCells < 0) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "start cell " + startCell + " and count " + maxCells
                    + " must not be negative");
        }
        List<Cell> cells = host.cells();
        int last = cells.get(cells.size() - 1).id();
        if (startCell > last) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "start cell " + startCell + " out of range (0-" + last + ")");
        }
        List<Long> free = new ArrayList<>();
        for (long id = startCell; id < (long) startCell + maxCells && id <= last; id++) {
            free.add(cell((int) id, cells).freeKiB() * 1024);
        }
        return free;
    }

    @Override
    public Map<String, Long> cpuStats(int cpu) {
        if (cpu < ALL) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "invalid CPU number " + cpu);
        }
        return ProcStat.cpu(host.procStat(), cpu).orElseThrow(() -> new KvmtoolException(ErrorCode.INVALID_ARG,
                "invalid CPU number " + cpu + ": the CPUs online are " + CpuList.format(host.online())));
    }

    @Override
    public Map<String, Long> memoryStats(int cell) {
        boolean numa = Files.isDirectory(host.paths().nodeDir());
        Map<String, Long> stats = new LinkedHashMap<>();
        // as libvirt: a host without NUMA answers for cell 0 with the whole host's figures
        if (cell == ALL || cell == 0 && !numa) {
            Map<String, Long> m = host.memInfo();
            stats.put("total", m.getOrDefault("MemTotal", 0L));
            stats.put("free", m.getOrDefault("MemFree", 0L));
            stats.put("buffers", m.getOrDefault("Buffers", 0L));
            stats.put("cached", m.getOrDefault("Cached", 0L));
            return stats;
        }
        Cell c = cell(cell, host.cells());
        stats.put("total", c.totalKiB());
        stats.put("free", c.freeKiB());
        return stats;
    }

    private static Cell cell(int id, List<Cell> cells) {
        return cells.stream().filter(c -> c.id() == id).findFirst().orElseThrow(() -> new KvmtoolException(
                ErrorCode.INVALID_ARG, "no NUMA cell " + id + " on this host (cells: "
                        + CpuList.format(cells.stream().map(Cell::id).toList()) + ")"));
    }

    @Override
    public int maxVcpus() {
        return vcpus.max();
    }

    @Override
    public String sysinfoXml() {
        return Smbios.xml(host.dmi());
    }

    @Override
    public String capabilitiesXml(ManagerInfo manager) {
        String emulator = manager.hypervisor().available() ? manager.hypervisor().binary() : null;
        return CapabilitiesXml.format(HostFacts.read(host), emulator, dacLabel(manager).orElse(null));
    }

    /** libvirt's DAC base label, "+UID:+GID" of the user lkvm runs as. */
    private Optional<String> dacLabel(ManagerInfo manager) {
        Optional<long[]> ids = manager.lkvmUser() != null ? host.userIds(manager.lkvmUser()) : host.ownIds();
        return ids.map(i -> "+" + i[0] + ":+" + i[1]);
    }

    @Override
    public String domainCapabilitiesXml(ManagerInfo manager, String emulator, String arch, String machine,
                                        String virtType) {
        String hostArch = host.arch();
        if (virtType != null && !virtType.equals("kvmtool")) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "virttype '" + virtType
                    + "' is not served here: kvmtool-manager runs domains of type 'kvmtool'");
        }
        if (arch != null && !arch.equals(hostArch)) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "kvmtool runs guests of the host's arch only ("
                    + hostArch + "), not " + arch);
        }
        if (machine != null && !machine.isEmpty()) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "kvmtool has no machine types (asked for '" + machine + "')");
        }
        if (!manager.hypervisor().available()) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "no lkvm is available to run guests: "
                    + manager.hypervisor().reason());
        }
        String lkvm = manager.hypervisor().binary();
        if (emulator != null && !emulator.equals(lkvm)) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "emulator " + emulator + " is not the configured lkvm ("
                    + lkvm + ")");
        }
        return DomainCapabilitiesXml.format(lkvm, hostArch, vcpus.max());
    }
}
