package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.SpawnRequest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Shared by the process tests: the installed helper, descriptors for stdio, /proc readers. */
final class Fixtures {
    static final Posix POSIX = new Posix();
    private static Path helper;

    private Fixtures() {
    }

    static synchronized Path helper() throws IOException {
        if (helper == null) {
            helper = ExecHelper.install(Files.createTempDirectory("kvmtool-exec-test"));
        }
        return helper;
    }

    static PosixProcessSpawner spawner() throws IOException {
        return new PosixProcessSpawner(helper(), Path.of("/proc"), Duration.ofSeconds(10));
    }

    static SpawnRequest request(List<String> argv, Path home, int stdioFd) {
        return new SpawnRequest(argv, home.toString(), stdioFd, List.of(), -1, -1, List.of());
    }

    static int devNull() throws SysCallException {
        return POSIX.open("/dev/null", Posix.O_RDWR);
    }

    /** A pty master, as the console service hands it over. */
    static int ptyMaster() throws SysCallException {
        return POSIX.open("/dev/ptmx", Posix.O_RDWR | Posix.O_NOCTTY);
    }

    /**
     * Lets an unprivileged user search {@code dir} (the parent of a test's HOME). Left alone when others may
     * already search it: that parent is /tmp, whose sticky bit a chmod through Java would drop (mode 0711 for
     * every user of the host).
     */
    static void letOthersSearch(Path dir) throws IOException {
        var perms = java.util.EnumSet.copyOf(Files.getPosixFilePermissions(dir));
        if (!perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
            perms.add(java.nio.file.attribute.PosixFilePermission.GROUP_EXECUTE);
            perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
            Files.setPosixFilePermissions(dir, perms);
        }
    }

    static boolean isRoot() {
        try {
            return Files.readString(Path.of("/proc/self/status")).lines()
                    .anyMatch(l -> l.matches("Uid:\\s+0\\s.*"));
        } catch (IOException e) {
            return false;
        }
    }

    /** Reads a pipe until EOF (the child closed its stdout) or 5 s. */
    static String drain(int fd) throws SysCallException {
        StringBuilder out = new StringBuilder();
        byte[] buf = new byte[4096];
        while (POSIX.pollIn(fd, 5_000)) {
            int n = POSIX.read(fd, buf);
            if (n == 0) {
                break;
            }
            out.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
        return out.toString();
    }

    static List<String> fds(long pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** The argv of {@code pid}, once the kernel has laid it out (it reads empty for a moment after an exec). */
    static List<String> settledCmdline(long pid) throws IOException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<String> argv = List.of();
        while (argv.isEmpty() && System.nanoTime() < deadline) {
            argv = ProcFs.splitNul(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")));
            Thread.onSpinWait();
        }
        return argv;
    }

    static List<String> environ(long pid) throws IOException {
        return ProcFs.splitNul(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ")));
    }

    static String statusField(long pid, String field) throws IOException {
        return Files.readString(Path.of("/proc", Long.toString(pid), "status")).lines()
                .filter(l -> l.startsWith(field + ":")).map(l -> l.substring(field.length() + 1).strip())
                .findFirst().orElseThrow();
    }

    /** Field N (1-based) of /proc/PID/stat. */
    static String statField(long pid, int n) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return f[n - 3];
    }

    /** Zombie children of this JVM, after giving other reapers (the JDK's) up to a second. */
    static List<String> zombieChildren() throws IOException, InterruptedException {
        List<String> z = zombieChildrenNow();
        for (int i = 0; i < 100 && !z.isEmpty(); i++) {
            Thread.sleep(10);
            z = zombieChildrenNow();
        }
        return z;
    }

    private static List<String> zombieChildrenNow() throws IOException {
        long self = ProcessHandle.current().pid();
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    long pid = Long.parseLong(p.getFileName().toString());
                    if (statField(pid, 3).equals("Z") && Long.parseLong(statField(pid, 4)) == self) {
                        out.add(pid + " " + Files.readString(p.resolve("comm")).strip());
                    }
                } catch (IOException | RuntimeException gone) {
                    // raced with an exit
                }
            }
        }
        return out;
    }

    static void killQuietly(ProcessIdentity id) {
        try {
            POSIX.kill((int) id.pid(), Posix.SIGKILL);
        } catch (SysCallException ignored) {
            // already gone
        }
    }

    /**
     * The identity of {@code pid} once its argv satisfies {@code execd}: a pid printed by a shell ("$!") is the
     * forked shell until it has exec'd the program, and an identity taken before would never match again.
     */
    static ProcessIdentity identifyExecd(PosixProcessSpawner spawner, long pid,
                                         java.util.function.Predicate<List<String>> execd) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        ProcessIdentity id = spawner.identify(pid).orElseThrow();
        while (!execd.test(id.cmdline()) && System.nanoTime() < deadline) {
            Thread.sleep(5);
            id = spawner.identify(pid).orElseThrow();
        }
        if (!execd.test(id.cmdline())) {
            throw new AssertionError("pid " + pid + " not exec'd within 10 s: " + id.cmdline());
        }
        return id;
    }

    /** Blocks until the pid is gone from /proc (reaped), at most 5 s. */
    static boolean awaitGone(long pid) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < end) {
            if (!Files.exists(Path.of("/proc", Long.toString(pid)))) {
                return true;
            }
            Thread.sleep(5);
        }
        return false;
    }

    static Optional<Path> standin() {
        String p = System.getProperty("kvmtool.standin.lkvm");
        return Optional.ofNullable(p).map(Path::of).filter(Files::isExecutable);
    }

    static Optional<Path> guest() {
        String p = System.getProperty("kvmtool.test.guest");
        return Optional.ofNullable(p).map(Path::of).filter(Files::isRegularFile);
    }

    static Optional<Path> realLkvm() {
        String p = System.getenv("KVMTOOL_LKVM");
        return Optional.ofNullable(p).filter(s -> !s.isBlank()).map(Path::of).filter(Files::isExecutable);
    }
}
