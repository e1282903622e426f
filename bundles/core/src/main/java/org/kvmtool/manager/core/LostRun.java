package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.ProcessSpawner;

/**
 * The lkvm of a domain whose status file cannot be read, found where the kernel keeps the truth: the pids in
 * the domain's cgroup.procs first, else every /proc entry. A candidate is ours only if its argv is
 * {@code BINARY run --name NAME ...}, its HOME is {@code homeRoot/ID} (this manager's run dir) and the spawner
 * identifies it (pid, start time and the same argv, so a pid recycled meanwhile is refused) as a live,
 * non-zombie process. Its console is the pty whose master is its stdin (fdinfo tty-index).
 */
final class LostRun {
    /** What the status file would have said about the process side of the run. */
    record Found(ProcessIdentity process, int id, String homeDir, String ptySlave, long startedAtMillis) {
    }

    /** USER_HZ: the unit of /proc/PID/stat's start time on every Linux ABI. */
    private static final long TICKS_PER_SECOND = 100;

    private LostRun() {
    }

    /** Every live lkvm of {@code name} under {@code homeRoot}; {@code cgroupPids} are tried before a /proc scan. */
    static List<Found> find(Path procDir, Path homeRoot, String name, Collection<Long> cgroupPids, ProcessSpawner spawner) {
        List<Found> out = look(procDir, homeRoot, name, cgroupPids, spawner);
        return out.isEmpty() ? look(procDir, homeRoot, name, allPids(procDir), spawner) : out;
    }

    /** The pids listed in cgroup.procs files (unreadable ones give none). */
    static Set<Long> pidsIn(Collection<String> procsFiles) {
        Set<Long> out = new LinkedHashSet<>();
        for (String f : procsFiles) {
            try {
                for (String line : Files.readAllLines(Path.of(f))) {
                    if (!line.isBlank()) {
                        out.add(Long.parseLong(line.trim()));
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // a group removed meanwhile: the /proc scan decides
            }
        }
        return out;
    }

    private static List<Found> look(Path procDir, Path homeRoot, String name, Collection<Long> pids, ProcessSpawner spawner) {
        List<Found> out = new ArrayList<>();
        for (long pid : pids) {
            candidate(procDir, homeRoot, name, pid, spawner).ifPresent(out::add);
        }
        return out;
    }

    private static Optional<Found> candidate(Path procDir, Path homeRoot, String name, long pid, ProcessSpawner spawner) {
        Path dir = procDir.resolve(Long.toString(pid));
        try {
            List<String> argv = nulSeparated(Files.readAllBytes(dir.resolve("cmdline")));
            if (!isRunOf(argv, name)) {
                return Optional.empty();
            }
            String home = env(Files.readAllBytes(dir.resolve("environ")), "HOME");
            Path h = home == null ? null : Path.of(home);
            if (h == null || !homeRoot.equals(h.getParent()) || !h.getFileName().toString().matches("\\d{1,9}")) {
                return Optional.empty();
            }
            ProcessIdentity id = spawner.identify(pid).orElse(null);
            if (id == null || !id.cmdline().equals(argv) || ProcState.zombie(procDir, id) || !spawner.isAlive(id)) {
                return Optional.empty();
            }
            return Optional.of(new Found(id, Integer.parseInt(h.getFileName().toString()), home, ptySlave(dir),
                    startedAtMillis(procDir, id.startTime())));
        } catch (IOException | RuntimeException gone) {
            return Optional.empty(); // ended meanwhile, or not ours to read
        }
    }

    /** {@code lkvm run ... --name NAME ...}: the form the argv builder writes. */
    static boolean isRunOf(List<String> argv, String name) {
        if (argv.size() < 4 || !argv.get(1).equals("run")) {
            return false;
        }
        int i = argv.indexOf("--name");
        return i > 0 && i + 1 < argv.size() && argv.get(i + 1).equals(name);
    }

    /** The slave of the pty whose master is lkvm's stdin, or null (no console to reopen). */
    private static String ptySlave(Path dir) {
        try {
            if (!Files.readSymbolicLink(dir.resolve("fd/0")).toString().equals("/dev/ptmx")) {
                return null;
            }
            for (String line : Files.readAllLines(dir.resolve("fdinfo/0"))) {
                if (line.startsWith("tty-index:")) {
                    return "/dev/pts/" + Integer.parseInt(line.substring(10).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // not readable: the domain runs without its console, which the adopter logs
        }
        return null;
    }

    /** Boot time (/proc/stat btime) plus the start time in ticks: when lkvm started, for UptimeSeconds. */
    private static long startedAtMillis(Path procDir, long startTicks) throws IOException {
        for (String line : Files.readAllLines(procDir.resolve("stat"))) {
            if (line.startsWith("btime ")) {
                return Long.parseLong(line.substring(6).trim()) * 1000 + startTicks * 1000 / TICKS_PER_SECOND;
            }
        }
        return 0;
    }

    private static List<Long> allPids(Path procDir) {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(procDir, "[0-9]*")) {
            for (Path p : ds) {
                try {
                    out.add(Long.parseLong(p.getFileName().toString()));
                } catch (NumberFormatException e) {
                    // not a process
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    private static List<String> nulSeparated(byte[] b) {
        String s = new String(b, StandardCharsets.UTF_8);
        if (s.endsWith("\0")) {
            s = s.substring(0, s.length() - 1);
        }
        return s.isEmpty() ? List.of() : Arrays.asList(s.split("\0", -1));
    }

    private static String env(byte[] environ, String key) {
        for (String kv : nulSeparated(environ)) {
            if (kv.startsWith(key + "=")) {
                return kv.substring(key.length() + 1);
            }
        }
        return null;
    }
}
