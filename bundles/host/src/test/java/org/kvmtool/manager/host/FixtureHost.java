package org.kvmtool.manager.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes a fake host's /proc, /sys and /etc under a directory, file by file, for the parsers to read. */
final class FixtureHost {
    final Path root;

    FixtureHost(Path root) {
        this.root = root;
    }

    HostPaths paths() {
        return new HostPaths(root.resolve("proc"), root.resolve("sys"), root.resolve("etc"), root.resolve("dev/kvm"));
    }

    FixtureHost file(String path, String text) {
        Path p = root.resolve(path);
        try {
            Files.createDirectories(p.getParent());
            Files.writeString(p, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    FixtureHost arch(String arch) {
        return file("proc/sys/kernel/arch", arch + "\n");
    }

    FixtureHost cpuinfo(String vendor, String model, String flags, String... mhzPerCpu) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < mhzPerCpu.length; i++) {
            b.append("processor\t: ").append(i).append('\n').append("vendor_id\t: ").append(vendor).append('\n')
                    .append("model name\t: ").append(model).append('\n').append("cpu MHz\t\t: ").append(mhzPerCpu[i])
                    .append('\n').append("flags\t\t: ").append(flags).append("\n\n");
        }
        return file("proc/cpuinfo", b.toString());
    }

    FixtureHost meminfo(long totalKiB, long freeKiB, long buffersKiB, long cachedKiB) {
        return file("proc/meminfo", "MemTotal:       " + totalKiB + " kB\nMemFree:        " + freeKiB
                + " kB\nMemAvailable:   " + (freeKiB + cachedKiB) + " kB\nBuffers:        " + buffersKiB
                + " kB\nCached:         " + cachedKiB + " kB\nHugepagesize:       2048 kB\n");
    }

    FixtureHost cpus(String present, String online) {
        file("sys/devices/system/cpu/present", present + "\n");
        return file("sys/devices/system/cpu/online", online + "\n");
    }

    FixtureHost cpu(int id, int socket, int die, int core, String siblings) {
        String t = "sys/devices/system/cpu/cpu" + id + "/topology/";
        file(t + "physical_package_id", socket + "\n");
        file(t + "die_id", die + "\n");
        file(t + "core_id", core + "\n");
        return file(t + "thread_siblings_list", siblings + "\n");
    }

    FixtureHost node(int id, String cpulist, long totalKiB, long freeKiB, String distance) {
        String n = "sys/devices/system/node/node" + id + "/";
        file(n + "cpulist", cpulist + "\n");
        file(n + "distance", distance + "\n");
        return file(n + "meminfo", "Node " + id + " MemTotal:       " + totalKiB + " kB\nNode " + id
                + " MemFree:        " + freeKiB + " kB\nNode " + id + " MemUsed:        " + (totalKiB - freeKiB) + " kB\n");
    }

    FixtureHost hugepages(String dir, int sizeKiB, long count) {
        return file(dir + "/hugepages-" + sizeKiB + "kB/nr_hugepages", count + "\n");
    }

    FixtureHost stat(String... cpuLines) {
        return file("proc/stat", String.join("\n", List.of(cpuLines)) + "\nintr 1 2 3\nctxt 42\n");
    }
}
