package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** The thread ids of lkvm's vCPUs: its threads named kvm-vcpu-N in /proc/PID/task/TID/comm. */
final class VcpuThreads {
    private VcpuThreads() {
    }

    static List<Long> read(Path procDir, long pid) {
        TreeMap<Integer, Long> byIndex = new TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(procDir.resolve(Long.toString(pid)).resolve("task"))) {
            for (Path t : tasks) {
                try {
                    String comm = Files.readString(t.resolve("comm")).trim();
                    if (comm.startsWith("kvm-vcpu-")) {
                        byIndex.put(Integer.parseInt(comm.substring(9)), Long.parseLong(t.getFileName().toString()));
                    }
                } catch (IOException | NumberFormatException e) {
                    // a thread that ended meanwhile, or another name: not a vCPU
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return new ArrayList<>(byIndex.values());
    }
}
