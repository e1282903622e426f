package org.kvmtool.manager.itests.karaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
    private UnpackedDistribution distribution;
    private Path home;
    private int httpPort;
    private Map<String, Integer> ports;
    private String startOutput;
    private long startNanos;
    private long jolokiaMillis = -1;

    @BeforeAll
    void unpackAndStart() throws Exception {
        distribution = UnpackedDistribution.unpack("launcher-it");
        home = distribution.home;
        assertFalse(Files.exists(home.resolve("etc/admin.password")), "the archive ships no admin password");

        httpPort = UnpackedDistribution.freePort();
        ports = Map.of("http", httpPort, "ssh", UnpackedDistribution.freePort(),
                "rmiRegistry", UnpackedDistribution.freePort(), "rmiServer", UnpackedDistribution.freePort());
        distribution.setProperty("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", ports.get("http"));
        distribution.setProperty("etc/org.apache.karaf.shell.cfg", "sshPort", ports.get("ssh"));
        distribution.setProperty("etc/org.apache.karaf.management.cfg", "rmiRegistryPort", ports.get("rmiRegistry"));
        distribution.setProperty("etc/org.apache.karaf.management.cfg", "rmiServerPort", ports.get("rmiServer"));

        startNanos = System.nanoTime();
        startOutput = distribution.start();
    }

    @AfterAll
    void stop() throws Exception {
        if (distribution != null) {
            distribution.stop();
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

        Map<Integer, String> listeners = listeningSockets(distribution.process().pid());
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

        long rssKb = vmRssKb(distribution.process().pid());
        System.out.printf("FIGURE bin/start to Hawtio answering: %d ms%n", hawtioMillis);
        System.out.printf("FIGURE Karaf JVM RSS after boot: %d MB%n", rssKb / 1024);
    }

    @Test
    @Order(4)
    void heapIsCappedBySetenv() throws Exception {
        String cmdline = Files.readString(Path.of("/proc", Long.toString(distribution.process().pid()), "cmdline"))
                .replace('\0', ' ');
        assertTrue(cmdline.contains(" -Xmx512m "), cmdline);
    }

    @Test
    @Order(5)
    void laterScriptsKeepTheAdminAndSayNothing() throws Exception {
        String before = Files.readString(home.resolve("etc/users.properties"));
        String output = distribution.run(Duration.ofMinutes(1), null, "bin/status");
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
}
