package org.kvmtool.manager.network;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Real bridges and taps for tests, in the host's network namespace under names no one else uses (the service
 * acts in the JVM's own namespace): every bridge and tap a test makes through here, and every tap that carries
 * the test's owner mark, is removed after each test, whatever it did. Root and /dev/net/tun are assumed: the
 * tests skip, saying so, without them. The test code may run {@code ip}; the product never does.
 */
public final class HostNet implements BeforeEachCallback, AfterEachCallback {
    public static final Path SYS = Path.of("/sys/class/net");
    /** The owner prefix of this JVM's test taps: what the cleanup removes. */
    public final String ownerPrefix = "/kvmtool-network-test-" + ProcessHandle.current().pid() + "/";
    private final List<String> links = new ArrayList<>();
    private final List<String> prefixes = new ArrayList<>(List.of(ownerPrefix));

    public static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.substring(4).trim().split("\\s+")[1].equals("0");
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        assumeTrue(isRoot(), "taps and bridges need root");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "the host has no /dev/net/tun");
        assumeTrue(run("ip", "-V") == 0, "the tests make their bridges with ip (iproute2), which is missing");
    }

    @Override
    public void afterEach(ExtensionContext context) {
        List<String> left = new ArrayList<>();
        try (var names = Files.list(SYS)) {
            for (Path p : names.toList()) {
                String alias = read(p.getFileName().toString(), "ifalias");
                if (prefixes.stream().anyMatch(alias::contains)) {
                    left.add(p.getFileName().toString());
                }
            }
        } catch (IOException e) {
            // nothing listed: only the recorded links are removed
        }
        left.addAll(links);
        for (String name : left) {
            if (Files.exists(SYS.resolve(name))) {
                run("ip", "link", "del", name);
            }
        }
        links.clear();
    }

    /** Taps whose mark names an owner under {@code prefix} (a manager's run dir) are removed after each test too. */
    public void removeTapsOf(String prefix) {
        prefixes.add(prefix);
    }

    /**
     * Runs the traffic script (tap-traffic.py, with /usr/bin/python3) with these arguments; its output, or an
     * AssertionError when it fails. Skips when python3 is missing.
     */
    public static String traffic(String... args) throws IOException, InterruptedException {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "the test traffic is made by /usr/bin/python3, which is missing");
        Path script = Files.createTempFile("tap-traffic", ".py");
        try (var in = HostNet.class.getResourceAsStream("/tap-traffic.py")) {
            Files.write(script, in.readAllBytes());
            List<String> cmd = new ArrayList<>(List.of(python.toString(), script.toString()));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("tap-traffic.py " + List.of(args) + " did not end");
            }
            String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new AssertionError("tap-traffic.py " + List.of(args) + " failed: " + said);
            }
            return said;
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /** A name nobody has: PREFIX and random hex, at most 15 bytes. */
    public static String unique(String prefix) {
        return prefix + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffff_ffffL);
    }

    /** A new bridge, up, with the given MTU. */
    public String bridge(int mtu) {
        String name = unique("kvtb");
        links.add(name);
        must("ip", "link", "add", name, "type", "bridge");
        // set after creation, so the bridge keeps it (an MTU given at creation follows its ports: the last port
        // to leave takes the bridge back to 1500)
        must("ip", "link", "set", name, "mtu", Integer.toString(mtu), "up");
        return name;
    }

    /** A tap made by hand (an operator's existing tap). */
    public String tap() {
        String name = unique("kvtt");
        links.add(name);
        must("ip", "tuntap", "add", "dev", name, "mode", "tap");
        return name;
    }

    /** A tap name the service will make: removed after the test too. */
    public String named() {
        String name = unique("kvtn");
        links.add(name);
        return name;
    }

    public static boolean exists(String name) {
        return Files.exists(SYS.resolve(name));
    }

    public static String read(String name, String attribute) {
        try {
            return Files.readString(SYS.resolve(name).resolve(attribute), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** The bridge a device is a port of, or null. */
    public static String master(String name) {
        Path m = SYS.resolve(name).resolve("master");
        try {
            return Files.isSymbolicLink(m) ? Files.readSymbolicLink(m).getFileName().toString() : null;
        } catch (IOException e) {
            return null;
        }
    }

    public static void must(String... cmd) {
        int rc = run(cmd);
        if (rc != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + rc);
        }
    }

    public static int run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
