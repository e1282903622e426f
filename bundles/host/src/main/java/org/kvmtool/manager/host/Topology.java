package org.kvmtool.manager.host;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.kvmtool.manager.api.NodeInfo;

/** libvirt's virNodeInfo from the host's cells and CPUs: a pure function, libvirt's rules (see {@link NodeInfo}). */
final class Topology {
    private Topology() {
    }

    static NodeInfo nodeInfo(String arch, long memoryKiB, int mhz, List<Cell> cells, List<HostCpu> cpus) {
        Map<Integer, HostCpu> byId = cpus.stream().collect(Collectors.toMap(HostCpu::id, Function.identity()));
        int online = 0;
        int offline = 0;
        int sockets = 0;
        int cores = 0;
        int threads = 0;
        for (Cell cell : cells) {
            Map<Integer, Set<String>> coresOfSocket = new HashMap<>();
            Map<String, Integer> threadsOfCore = new HashMap<>();
            for (int id : cell.cpus()) {
                HostCpu c = byId.get(id);
                if (c == null) {
                    continue;
                }
                if (!c.online()) {
                    offline++;
                    continue;
                }
                online++;
                if (!c.hasTopology()) {
                    continue;
                }
                String core = c.socket() + "/" + c.die() + "/" + c.core();
                coresOfSocket.computeIfAbsent(c.socket(), s -> new HashSet<>()).add(core);
                threadsOfCore.merge(core, 1, Integer::sum);
            }
            sockets = Math.max(sockets, coresOfSocket.size());
            cores = Math.max(cores, coresOfSocket.values().stream().mapToInt(Set::size).max().orElse(0));
            threads = Math.max(threads, threadsOfCore.values().stream().mapToInt(Integer::intValue).max().orElse(0));
        }
        int nodes = cells.size();
        // libvirt's own check: a topology that does not multiply out to the CPUs present is reported flat
        if ((long) nodes * sockets * cores * threads != online + offline) {
            return new NodeInfo(arch, memoryKiB, online, mhz, 1, 1, online + offline, 1);
        }
        return new NodeInfo(arch, memoryKiB, online, mhz, nodes, sockets, cores, threads);
    }
}
