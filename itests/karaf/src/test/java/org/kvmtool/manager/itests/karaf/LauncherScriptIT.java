package org.kvmtool.manager.itests.karaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The distribution as an operator gets it: the tar.gz unpacked, started with bin/start, stopped with bin/stop.
 * Checks what only the scripts do (the generated admin password, the heap limit) and what only a real process
 * shows (every listening socket on loopback). Prints the time from bin/start to Jolokia answering and the RSS.
 *
 * <p>The ports are moved to free ones so that the test can run beside other Karafs on the machine.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LauncherScriptIT {

    private static final Duration BOOT_TIMEOUT = Duration.ofMinutes(5);
    private static final Pattern RANDOM_PASSWORD = Pattern.compile("[A-Za-z0-9]{24}");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Path home;
    private int httpPort;
    private Map<String, Integer> ports;
    private String startOutput;
    private long startNanos;
    private long jolokiaMillis = -1;
    private ProcessHandle karaf;

    @BeforeAll
    void unpackAndStart() throws Exception {
        Path archive = Path.of(System.getProperty("kvmtool.distribution"));
        Path root = Files.createDirectories(Path.of("target", "launcher-it")).toAbsolutePath();
        deleteTree(root);
        Files.createDirectories(root);
        run(root, Duration.ofMinutes(2), "tar", "xzf", archive.toString());
        try (Stream<Path> entries = Files.list(root)) {
            home = entries.filter(p -> Files.isExecutable(p.resolve("bin/start"))).findFirst()
                    .orElseThrow(() -> new AssertionError("no bin/start in " + archive));
        }
        assertFalse(Files.exists(home.resolve("etc/admin.password")), "the archive ships no admin password");

        httpPort = freePort();
        ports = Map.of("http", httpPort, "ssh", freePort(), "rmiRegistry", freePort(), "rmiServer", freePort());
        setProperty("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", ports.get("http"));
        setProperty("etc/org.apache.karaf.shell.cfg", "sshPort", ports.get("ssh"));
        setProperty("etc/org.apache.karaf.management.cfg", "rmiRegistryPort", ports.get("rmiRegistry"));
        setProperty("etc/org.apache.karaf.management.cfg", "rmiServerPort", ports.get("rmiServer"));

        startNanos = System.nanoTime();
        startOutput = run(home, Duration.ofMinutes(1), "bin/start");
        karaf = awaitKarafProcess();
    }

    @AfterAll
    void stop() throws Exception {
        if (home == null) {
            return;
        }
        try {
            run(home, Duration.ofMinutes(1), "bin/stop");
        } finally {
            if (karaf != null) {
                // bin/stop asks Karaf to shut down; make sure the JVM is gone (stack.md pitfall 8)
                try {
                    karaf.onExit().get(90, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    karaf.destroyForcibly();
                    fail("Karaf did not stop within 90 s of bin/stop");
                }
            }
        }
    }

    @Test
    @Order(1)
    void firstStartCreatesAnAdminWithARandomPassword() throws Exception {
        Path passwordFile = home.resolve("etc/admin.password");
        assertTrue(Files.isRegularFile(passwordFile), "etc/admin.password created; bin/start said: " + startOutput);
        String password = Files.readString(passwordFile).trim();
        assertTrue(RANDOM_PASSWORD.matcher(password).matches(), "24 random alphanumerics: " + password);
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(passwordFile));
        assertEquals(PosixFilePermissions.fromString("rw-------"),
                Files.getPosixFilePermissions(home.resolve("etc/users.properties")));
        String users = Files.readString(home.resolve("etc/users.properties"));
        assertTrue(users.contains("\nadmin = " + password + ",admin,"), users);
        assertTrue(startOutput.contains("etc/admin.password"), "says where the password is: " + startOutput);
        assertFalse(startOutput.contains(password), "does not print the password itself");
    }

    @Test
    @Order(2)
    void jolokiaAnswersTheGeneratedAdminAndNobodyElse() throws Exception {
        String password = Files.readString(home.resolve("etc/admin.password")).trim();
        long deadline = startNanos + BOOT_TIMEOUT.toNanos();
        int status = -1;
        while (System.nanoTime() < deadline) {
            status = get("/jolokia/version", "admin", password);
            if (status == 200) {
                jolokiaMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
                break;
            }
            Thread.sleep(100);
        }
        assertEquals(200, status, "Jolokia answered the admin within " + BOOT_TIMEOUT);
        System.out.printf("FIGURE bin/start to Jolokia answering: %d ms%n", jolokiaMillis);

        assertEquals(401, get("/jolokia/version", null, null));
        assertEquals(401, get("/jolokia/version", "karaf", "karaf"));
        assertEquals(401, get("/jolokia/version", "admin", "karaf"));
    }

    @Test
    @Order(3)
    void everyListeningSocketIsOnLoopback() throws Exception {
        // Hawtio is the last boot stage: once it answers, every listener has been opened.
        long deadline = startNanos + BOOT_TIMEOUT.toNanos();
        while (get("/hawtio/auth/login", null, null) != 200) {
            assertTrue(System.nanoTime() < deadline, "Hawtio answered within " + BOOT_TIMEOUT);
            Thread.sleep(500);
        }
        long hawtioMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);

        Map<Integer, String> listeners = listeningSockets(karaf.pid());
        List<String> open = new ArrayList<>();
        listeners.forEach((port, address) -> {
            if (!isLoopback(address)) {
                open.add(address + ":" + port);
            }
        });
        assertTrue(open.isEmpty(), "listening beyond loopback: " + open + " (all: " + listeners + ")");
        for (Map.Entry<String, Integer> expected : ports.entrySet()) {
            assertTrue(listeners.containsKey(expected.getValue()),
                    expected.getKey() + " listens on " + expected.getValue() + ": " + listeners);
        }

        long rssKb = vmRssKb(karaf.pid());
        System.out.printf("FIGURE bin/start to Hawtio answering: %d ms%n", hawtioMillis);
        System.out.printf("FIGURE Karaf JVM RSS after boot: %d MB%n", rssKb / 1024);
    }

    @Test
    @Order(4)
    void heapIsCappedBySetenv() throws Exception {
        String cmdline = Files.readString(Path.of("/proc", Long.toString(karaf.pid()), "cmdline"))
                .replace('\0', ' ');
        assertTrue(cmdline.contains(" -Xmx512m "), cmdline);
    }

    @Test
    @Order(5)
    void laterScriptsKeepTheAdminAndSayNothing() throws Exception {
        String before = Files.readString(home.resolve("etc/users.properties"));
        String output = run(home, Duration.ofMinutes(1), "bin/status");
        assertFalse(output.contains("created user"), output);
        assertEquals(before, Files.readString(home.resolve("etc/users.properties")));
    }

    // ---------------------------------------------------------------- helpers

    private int get(String path, String user, String password) throws InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .timeout(Duration.ofSeconds(30));
        if (user != null) {
            request.header("Authorization", "Basic " + Base64.getEncoder()
                    .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException notListeningYet) {
            return -1;
        }
    }

    private ProcessHandle awaitKarafProcess() throws InterruptedException {
        String marker = "-Dkaraf.home=" + home;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (System.nanoTime() < deadline) {
            Optional<ProcessHandle> java = ProcessHandle.allProcesses()
                    .filter(p -> cmdline(p.pid()).contains(marker) && cmdline(p.pid()).contains("org.apache.karaf.main.Main"))
                    .findFirst();
            if (java.isPresent()) {
                return java.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no Karaf JVM with " + marker + " after bin/start");
    }

    private static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
        } catch (IOException | RuntimeException gone) {
            return "";
        }
    }

    /** port -> local address of each TCP socket of pid in LISTEN state, from /proc. */
    static Map<Integer, String> listeningSockets(long pid) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // ignore
                }
            }
        }
        Map<Integer, String> listeners = new HashMap<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines = Files.readAllLines(Path.of(table));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                // f[1] local "ADDR:PORT" (hex), f[3] state (0A = LISTEN), f[9] inode
                if (f[3].equals("0A") && inodes.contains(f[9])) {
                    String[] local = f[1].split(":");
                    listeners.put(Integer.parseInt(local[1], 16), decodeAddress(local[0]));
                }
            }
        }
        return listeners;
    }

    /** /proc/net/tcp{,6} addresses: 32-bit words in host (little-endian) order. */
    static String decodeAddress(String hex) {
        byte[] bytes = new byte[hex.length() / 2];
        for (int word = 0; word < bytes.length / 4; word++) {
            for (int i = 0; i < 4; i++) {
                int at = word * 8 + (3 - i) * 2;
                bytes[word * 4 + i] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
            }
        }
        try {
            return java.net.InetAddress.getByAddress(bytes).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(hex, e);
        }
    }

    static boolean isLoopback(String address) {
        try {
            return java.net.InetAddress.getByName(address).isLoopbackAddress()
                    || address.matches("(0:){5}ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}");   // ::ffff:127.x.y.z
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static long vmRssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            Matcher m = Pattern.compile("VmRSS:\\s+(\\d+) kB").matcher(line);
            if (m.matches()) {
                return Long.parseLong(m.group(1));
            }
        }
        return -1;
    }

    private void setProperty(String file, String key, int value) throws IOException {
        Path path = home.resolve(file);
        String text = Files.readString(path);
        String replaced = text.replaceAll("(?m)^" + Pattern.quote(key) + "\\s*=.*$",
                Matcher.quoteReplacement(key + " = " + value));
        assertFalse(text.equals(replaced), key + " found in " + file);
        Files.writeString(path, replaced);
    }

    private static String run(Path dir, Duration timeout, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        // bin/start leaves Karaf running with our stdout; read what the script itself printed, then move on
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not end within " + timeout);
        }
        String text = new String(output, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), String.join(" ", command) + " failed: " + text);
        return text;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
