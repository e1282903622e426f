package org.kvmtool.manager.contract;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * What the host-device contract needs of the host, as root: tools, another user, network namespaces and
 * hugetlbfs mounts of the test's own, always removed.
 */
final class Host {
    /** lkvm's user in these tests: an unprivileged uid that owns nothing. */
    static final int NOBODY = 65534;

    private Host() {
    }

    static boolean isRoot() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .anyMatch(l -> l.matches("Uid:\\s+0\\s.*"));
    }

    /** An executable of that name in the usual system directories. */
    static Optional<Path> tool(String name) {
        return List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin").stream().map(d -> Path.of(d, name))
                .filter(Files::isExecutable).findFirst();
    }

    /** Runs a command to its end; its stdout, or an IOException with all it said when it fails. */
    static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(cmd + " failed: " + out);
        }
        return out;
    }

    static String run(String... cmd) throws IOException, InterruptedException {
        return run(List.of(cmd));
    }

    /** setpriv's prefix that runs a command as uid:gid with only these supplementary groups. */
    static List<String> asUser(int uid, int gid, int group) {
        return List.of(tool("setpriv").orElseThrow().toString(), "--reuid=" + uid, "--regid=" + gid,
                "--groups=" + group);
    }

    /** The group that may open /dev/kvm (the real lkvm needs it; the stand-in never opens it). */
    static int kvmGroup() throws IOException {
        Path kvm = Path.of("/dev/kvm");
        return Files.exists(kvm) ? (Integer) Files.getAttribute(kvm, "unix:gid") : NOBODY;
    }

    static void chown(Path p, int uid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid);
        Files.setAttribute(p, "unix:gid", uid);
    }

    static long meminfo(String key) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (l.startsWith(key + ":")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no " + key + " in /proc/meminfo");
    }

    /** A network namespace of the test's own: deleting it removes every tap made in it. */
    record NetNs(String name, Path ip) implements AutoCloseable {
        static NetNs create() throws IOException, InterruptedException {
            Path ip = tool("ip").orElseThrow();
            String name = "kvmtc" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
            run(ip.toString(), "netns", "add", name);
            NetNs ns = new NetNs(name, ip);
            ns.ip("link", "set", "lo", "up");
            return ns;
        }

        /** ip -n NS ARGS: its output. */
        String ip(String... args) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>(List.of(ip.toString(), "-n", name));
            cmd.addAll(List.of(args));
            return run(cmd);
        }

        /** The names of the namespace's tap and tun devices. */
        List<String> taps() throws IOException, InterruptedException {
            List<String> taps = new ArrayList<>();
            for (String l : ip("-o", "-d", "link", "show").split("\n")) {
                if (l.contains(" tun type ")) {
                    taps.add(l.split(": ")[1].split("@")[0]);
                }
            }
            return taps;
        }

        /** The prefix that runs a command in this namespace (ip netns exec execs it: the pid stays). */
        List<String> prefix() {
            return List.of(ip.toString(), "netns", "exec", name);
        }

        @Override
        public void close() throws IOException, InterruptedException {
            run(ip.toString(), "netns", "delete", name);
        }
    }

    /**
     * A hugetlbfs mount in a temporary directory. Huge pages added to the (host-wide) pool for the test are
     * taken out again afterwards, relative to what is there then: other users of the pool keep theirs.
     */
    static final class Hugetlbfs implements AutoCloseable {
        private static final Path POOL = Path.of("/proc/sys/vm/nr_hugepages");
        private final Path dir;
        private long added;

        private Hugetlbfs(Path dir) {
            this.dir = dir;
        }

        static Hugetlbfs mount(String options) throws IOException, InterruptedException {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "hugetlbfs");
            try {
                run("mount", "-t", "hugetlbfs", "-o", options, "none", dir.toString());
            } catch (IOException e) {
                Files.delete(dir);
                throw e;
            }
            return new Hugetlbfs(dir);
        }

        Path dir() {
            return dir;
        }

        /** Adds pages of the default size to the pool; whether that many are free now. */
        boolean reserve(long pages) throws IOException {
            long before = pool();
            Files.writeString(POOL, Long.toString(before + pages));
            added += Math.max(0, pool() - before);
            return meminfo("HugePages_Free") >= pages;
        }

        /** Read whole in one go: a sysctl file answers a short first read with a cut number (Files.readString). */
        private static long pool() throws IOException {
            return Long.parseLong(Files.readAllLines(POOL).get(0).trim());
        }

        @Override
        public void close() throws IOException, InterruptedException {
            run("umount", dir.toString());
            Files.delete(dir);
            if (added > 0) {
                Files.writeString(POOL, Long.toString(Math.max(0, pool() - added)));
            }
        }
    }
}
