package org.kvmtool.manager.itests.karaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The distribution as an operator has it: the tar.gz unpacked under target/, configured by editing its etc/
 * files, started with bin/start and stopped with bin/stop. Tests that need the real scripts or a Karaf that
 * survives its own stop use this instead of Pax Exam's container.
 */
final class UnpackedDistribution {
    private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(1);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);

    /** KARAF_HOME: the folder of the archive that holds bin/start. */
    final Path home;
    private ProcessHandle karaf;

    private UnpackedDistribution(Path home) {
        this.home = home;
    }

    /** Unpacks the archive named by the system property kvmtool.distribution into target/{folder}, emptied first. */
    static UnpackedDistribution unpack(String folder) throws Exception {
        Path archive = Path.of(System.getProperty("kvmtool.distribution"));
        Path root = Path.of("target", folder).toAbsolutePath();
        deleteTree(root);
        Files.createDirectories(root);
        run(root, Duration.ofMinutes(2), null, "tar", "xzf", archive.toString());
        try (Stream<Path> entries = Files.list(root)) {
            return new UnpackedDistribution(entries.filter(p -> Files.isExecutable(p.resolve("bin/start"))).findFirst()
                    .orElseThrow(() -> new AssertionError("no bin/start in " + archive)));
        }
    }

    /** Sets {@code key = value} in an etc/ file, where the file has the key already. */
    void setProperty(String file, String key, Object value) throws IOException {
        Path path = home.resolve(file);
        String text = Files.readString(path);
        String replaced = text.replaceAll("(?m)^" + Pattern.quote(key) + "\\s*=.*$",
                Matcher.quoteReplacement(key + " = " + value));
        assertFalse(text.equals(replaced), key + " found in " + file);
        Files.writeString(path, replaced);
    }

    /** Runs bin/start and finds the Karaf JVM it launched; returns what the script printed. */
    String start() throws Exception {
        String output = run(SCRIPT_TIMEOUT, null, "bin/start");
        karaf = awaitKarafProcess();
        return output;
    }

    /** Runs bin/stop and waits for the JVM to be gone (bin/stop only asks; stack.md pitfall 8). */
    void stop() throws Exception {
        try {
            run(SCRIPT_TIMEOUT, null, "bin/stop");
        } finally {
            if (karaf != null) {
                try {
                    karaf.onExit().get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    karaf.destroyForcibly();
                    throw new AssertionError("Karaf did not stop within " + STOP_TIMEOUT + " of bin/stop");
                }
            }
        }
    }

    /** The Karaf JVM of the last start (null before the first). */
    ProcessHandle process() {
        return karaf;
    }

    /** The last resort of a test's cleanup: ends the Karaf JVM if it still runs. */
    void kill() {
        if (karaf != null && karaf.isAlive()) {
            karaf.destroyForcibly();
        }
    }

    /** Runs a command in KARAF_HOME; see {@link #run(Path, Duration, String, String...)}. */
    String run(Duration timeout, String stdin, String... command) throws Exception {
        return run(home, timeout, stdin, command);
    }

    /**
     * Runs a command to its end and returns its output (stderr included), failing unless it exits 0 within
     * {@code timeout}. {@code stdin} is its whole input; null gives it /dev/null.
     */
    static String run(Path dir, Duration timeout, String stdin, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(stdin == null ? ProcessBuilder.Redirect.from(new File("/dev/null"))
                        : ProcessBuilder.Redirect.PIPE)
                .start();
        if (stdin != null) {
            try (var in = process.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        // bin/start leaves Karaf running with our stdout: read what the script itself printed, then move on
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not end within " + timeout);
        }
        String text = new String(output, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), String.join(" ", command) + " failed: " + text);
        return text;
    }

    /**
     * The JVM by the pid file Karaf's main writes (etc/config.properties: karaf.pid.file), once that names a live
     * process of this home: the file of a previous run may still name an ended one.
     */
    private ProcessHandle awaitKarafProcess() throws Exception {
        Path pidFile = home.resolve("karaf.pid");
        String marker = "-Dkaraf.home=" + home + " ";
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (System.nanoTime() < deadline) {
            String pid = Files.exists(pidFile) ? Files.readString(pidFile).trim() : "";
            Optional<ProcessHandle> java = pid.matches("\\d+")
                    ? ProcessHandle.of(Long.parseLong(pid)).filter(p -> cmdline(p.pid()).contains(marker))
                    : Optional.empty();
            if (java.isPresent()) {
                return java.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no Karaf JVM of " + home + " in " + pidFile + " after bin/start");
    }

    /** A process's command line, arguments separated by spaces; "" once it is gone. */
    static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
        } catch (IOException | RuntimeException gone) {
            return "";
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
