package org.kvmtool.manager.cgroups;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/** Real processes and real cgroup housekeeping for the tests that run on this machine's hierarchy. */
final class RealProcesses {
    private RealProcesses() {
    }

    static boolean root() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0"); // the effective uid
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    static String uniqueParent() {
        return "kvmtool-test-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
    }

    /** A shell that joins the group through its cgroup.procs files (as a spawned lkvm does), then execs. */
    static Process joinedThenExec(List<String> procsFiles, String command) throws IOException {
        List<String> argv = new ArrayList<>(List.of("sh", "-c",
                "for f; do echo 0 > \"$f\" || exit 99; done; exec " + command, "sh"));
        argv.addAll(procsFiles);
        return new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** A JVM with named kvm-vcpu-N threads; returns once they run. */
    static Process vcpuBurner(int vcpus, int mib) throws IOException {
        return vcpuBurner(vcpus, mib, null);
    }

    /** Asks a burner to touch {@code mib} MiB more and waits until it did. */
    static void touch(Process burner, int mib) throws IOException {
        burner.getOutputStream().write(("touch " + mib + "\n").getBytes());
        burner.getOutputStream().flush();
        String line = readLine(burner.getInputStream());
        if (line == null || !line.startsWith("touched")) {
            throw new IllegalStateException("burner did not touch: " + line);
        }
    }

    private static Process vcpuBurner(int vcpus, int mib, Void unused) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classes;
        try {
            classes = Path.of(VcpuBurner.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        Process p = new ProcessBuilder(java, "-Xmx" + (mib + 32) + "m", "-XX:TieredStopAtLevel=1", "-cp", classes,
                VcpuBurner.class.getName(), Integer.toString(vcpus), Integer.toString(mib))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String line = readLine(p.getInputStream());
        if (line == null || !line.startsWith("ready")) {
            p.destroyForcibly();
            throw new IllegalStateException("burner did not start: " + line);
        }
        return p;
    }

    /** One line, byte by byte: no reader buffering ahead of the next answer. */
    private static String readLine(java.io.InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                return line.length() == 0 ? null : line.toString();
            }
            line.append((char) c);
        }
        return line.toString();
    }

    static void kill(Process p) {
        if (p != null) {
            p.destroyForcibly();
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static List<Long> lines(Path file) {
        try {
            return Files.readAllLines(file).stream().filter(s -> !s.isBlank()).map(Long::parseLong).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes a test parent and every group below it, deepest first (a cgroup's rmdir ignores its files). */
    static void removeTree(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<Path> dirs;
        try (var walk = Files.walk(dir)) {
            dirs = walk.filter(Files::isDirectory).sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList();
        }
        for (Path d : dirs) {
            Files.delete(d);
        }
    }
}
