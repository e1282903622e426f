package org.kvmtool.manager.api;

import java.util.List;

/**
 * The host's CPUs as virNodeGetCPUMap gives them.
 *
 * @param present the number of CPUs present: the highest present CPU id + 1
 * @param online  the ids of the online CPUs, ascending
 */
public record CpuMap(int present, List<Integer> online) {
    public CpuMap {
        online = List.copyOf(online);
    }
}
