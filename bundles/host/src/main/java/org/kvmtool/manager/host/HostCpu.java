package org.kvmtool.manager.host;

/**
 * One CPU present on the host. The topology is null for an offline CPU: the kernel removes its topology
 * directory.
 *
 * @param siblings the CPUs sharing its core (thread_siblings_list), in the kernel's list format
 */
record HostCpu(int id, boolean online, Integer socket, Integer die, Integer core, String siblings) {
    boolean hasTopology() {
        return socket != null && core != null && siblings != null;
    }
}
