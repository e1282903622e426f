package org.kvmtool.manager.api;

/**
 * libvirt's virNodeInfo, with libvirt's rules: {@code cpus} counts the online CPUs; {@code sockets} is per NUMA
 * cell, {@code cores} per socket, {@code threads} per core; when nodes * sockets * cores * threads does not come
 * to the CPUs present, the topology is reported flat as 1, 1, CPUs, 1 (the capabilities XML has the real one).
 *
 * @param model     the host's arch as uname names it (x86_64, aarch64, ...)
 * @param memoryKiB MemTotal
 * @param mhz       the clock of /proc/cpuinfo (0 where the kernel gives none)
 */
public record NodeInfo(String model, long memoryKiB, int cpus, int mhz, int nodes, int sockets, int cores,
                       int threads) {
}
