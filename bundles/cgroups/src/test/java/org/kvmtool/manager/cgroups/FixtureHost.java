package org.kvmtool.manager.cgroups;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A host's cgroup layout as files, in the style of libvirt's tests/vircgroupdata: the mountinfo and
 * /proc/self/cgroup of a real layout (src/test/resources/hosts/NAME) and, under a temporary directory, the
 * directory tree with the control files the kernel would show. Tests add what their case needs.
 */
final class FixtureHost {
    static final String UNLIMITED_V1 = "9223372036854771712";

    final Path top;
    final Path cgroup;
    private final String name;

    /**
     * @param v2Controllers what cgroup.controllers of the v2 root offers
     * @param hostRoot      the visible roots are the host's real roots (false: inside a container)
     */
    FixtureHost(Path tmp, String name, String v2Controllers, boolean hostRoot) {
        this.top = tmp;
        this.name = name;
        this.cgroup = tmp.resolve("sys/fs/cgroup");
        write("proc/self/mountinfo", resource("mountinfo"));
        write("proc/self/cgroup", resource("cgroup"));
        for (CgroupMount m : CgroupMount.parse(resource("mountinfo"))) {
            Path dir = paths().translate(m.mountPoint());
            if (m.v2()) {
                v2Group(dir, v2Controllers, !hostRoot);
            } else {
                v1Group(dir, m.controllers().toArray(String[]::new));
                if (hostRoot) {
                    file(dir.resolve("release_agent"), "");
                    file(dir.resolve("cgroup.sane_behavior"), "0\n");
                }
            }
        }
    }

    HostPaths paths() {
        return new HostPaths(top.resolve("proc/self/mountinfo"), top.resolve("proc/self/cgroup"), cgroup,
                Path.of("/proc"));
    }

    /** The files the kernel shows in a v1 group of a hierarchy holding {@code controllers}. */
    static void v1Group(Path dir, String... controllers) {
        mkdirs(dir);
        file(dir.resolve("cgroup.procs"), "");
        file(dir.resolve("tasks"), "");
        for (String c : controllers) {
            switch (c) {
                case "cpu" -> file(dir.resolve("cpu.shares"), "1024\n");
                case "cpuacct" -> file(dir.resolve("cpuacct.usage"), "0\n");
                case "memory" -> {
                    file(dir.resolve("memory.usage_in_bytes"), "0\n");
                    file(dir.resolve("memory.limit_in_bytes"), UNLIMITED_V1 + "\n");
                    file(dir.resolve("memory.stat"), "cache 0\nrss 0\ntotal_cache 0\ntotal_rss 0\n");
                }
                default -> { }
            }
        }
    }

    /** The files the kernel shows in a v2 group; {@code controllers} is what its parent enabled for it. */
    static void v2Group(Path dir, String controllers, boolean nonRoot) {
        mkdirs(dir);
        file(dir.resolve("cgroup.controllers"), controllers + "\n");
        file(dir.resolve("cgroup.subtree_control"), "\n");
        file(dir.resolve("cgroup.procs"), "");
        file(dir.resolve("cpu.stat"), "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
        if (nonRoot) {
            file(dir.resolve("cgroup.type"), "domain\n");
            if (controllers.contains("cpu")) {
                file(dir.resolve("cpu.weight"), "100\n");
            }
            if (controllers.contains("memory")) {
                file(dir.resolve("memory.current"), "0\n");
                file(dir.resolve("memory.max"), "max\n");
            }
        }
    }

    Path dir(String rel) {
        return cgroup.resolve(rel);
    }

    void write(String rel, String content) {
        file(top.resolve(rel), content);
    }

    static void file(Path file, String content) {
        try {
            mkdirs(file.getParent());
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void mkdirs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String resource(String file) {
        try (InputStream in = FixtureHost.class.getResourceAsStream("/hosts/" + name + "/" + file)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture hosts/" + name + "/" + file);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
