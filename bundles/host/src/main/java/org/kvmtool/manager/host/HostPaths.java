package org.kvmtool.manager.host;

import java.nio.file.Path;

/**
 * Where this host's facts live. The real host uses {@link #system()}; tests point every root at a fixture tree
 * (a NUMA host, a host without /sys/devices/system/node, offline CPUs, missing DMI...).
 *
 * @param proc   /proc: meminfo, stat, cpuinfo, sys/kernel/arch, self/status, self/exe
 * @param sys    /sys: devices/system/cpu, devices/system/node, kernel/mm/hugepages, class/dmi/id
 * @param etc    /etc: passwd (the user lkvm runs as), machine-id (the host UUID without DMI)
 * @param devKvm /dev/kvm, asked for KVM's vCPU limit
 */
record HostPaths(Path proc, Path sys, Path etc, Path devKvm) {
    static HostPaths system() {
        return new HostPaths(Path.of("/proc"), Path.of("/sys"), Path.of("/etc"), Path.of("/dev/kvm"));
    }

    Path cpuDir() {
        return sys.resolve("devices/system/cpu");
    }

    Path nodeDir() {
        return sys.resolve("devices/system/node");
    }

    Path dmiDir() {
        return sys.resolve("class/dmi/id");
    }
}
