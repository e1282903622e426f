package org.kvmtool.manager.console;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The console of an lkvm running the test guest: the stand-in always (once it is built), a real lkvm
 * when KVMTOOL_LKVM names one.
 */
class LkvmConsoleTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    static String lkvm(String which) {
        if (which.equals("real")) {
            String real = System.getenv("KVMTOOL_LKVM");
            assumeTrue(real != null && !real.isBlank(), "KVMTOOL_LKVM does not name a real lkvm");
            return real;
        }
        String standin = System.getProperty("kvmtool.standin.lkvm", "");
        assumeTrue(Files.isExecutable(Path.of(standin)),
                "the lkvm stand-in is not built (mvn -pl itests/lkvm-standin,itests/guest verify): " + standin);
        return standin;
    }

    static String guestKernel() {
        String guest = System.getProperty("kvmtool.test.guest", "");
        assumeTrue(Files.isRegularFile(Path.of(guest)), "the test guest is not built: " + guest);
        return guest;
    }

    @ParameterizedTest
    @ValueSource(strings = {"stand-in", "real"})
    void bannerEchoAndPoweroff(String which) throws Exception {
        String lkvm = lkvm(which);
        String kernel = guestKernel();
        ConsoleServiceImpl consoles = new ConsoleServiceImpl(ConsoleServiceTest.DEFAULTS);
        Path home = Files.createTempDirectory("kc"); // short: lkvm's socket path must fit in sun_path
        try (Guest g = Guest.lkvm(consoles, lkvm, kernel, "console-test", home)) {
            Path log = tmp.resolve("lkvm.log");
            consoles.open("console-test", g.slavePath, g.pid(), log.toString(), 1 << 20);
            Collector reader = new Collector();
            consoles.subscribe("console-test", reader);
            ConsoleServiceTest.await("banner",
                    () -> ConsoleServiceTest.tailText(consoles, "console-test").contains("GUEST READY"), WAIT);

            consoles.write("console-test", "hello".getBytes());
            assertTrue(reader.await("hello", WAIT), "echo: " + reader.text());

            consoles.write("console-test", "q".getBytes());
            assertTrue(reader.awaitClosed(WAIT), "closed() when lkvm ended");
            assertEquals(OptionalInt.of(0), g.process.waitFor(WAIT));
            assertFalse(consoles.isOpen("console-test"));
            String all = Files.readString(log);
            assertTrue(all.startsWith("  Info: # lkvm run -k " + kernel), all);
            assertTrue(all.contains("GUEST READY\r\n"), all);
            assertTrue(all.contains("helloGUEST POWEROFF\r\n"), all);
            assertTrue(all.contains("KVM session ended normally."), "lkvm's last line is kept: " + all);
        } finally {
            consoles.deactivate();
            delete(home);
        }
    }

    /** The stand-in's guest floods 10 MiB right after its banner, before anyone opened the slave. */
    @Test
    void standinFloodIsLoggedCompletely() throws Exception {
        String lkvm = lkvm("stand-in");
        int n = 10 << 20;
        Path marker = tmp.resolve("flood.kernel");
        Files.writeString(marker, "KVMTOOL-STANDIN flood=" + n + "\n");
        ConsoleServiceImpl consoles = new ConsoleServiceImpl(ConsoleServiceTest.DEFAULTS);
        Path home = Files.createTempDirectory("kc");
        try (Guest g = Guest.lkvm(consoles, lkvm, marker.toString(), "console-flood", home)) {
            Path log = tmp.resolve("flood.log");
            consoles.open("console-flood", g.slavePath, g.pid(), log.toString(), 8L << 20);
            String banner = "GUEST READY\r\n";
            ConsoleServiceTest.await("the whole flood", () -> ConsoleServiceTest.size(ConsoleServiceTest.rotated(log))
                    + ConsoleServiceTest.size(log) >= n + banner.length(), WAIT);
            consoles.write("console-flood", "q".getBytes());
            assertEquals(OptionalInt.of(0), g.process.waitFor(WAIT));
            ConsoleServiceTest.await("the end", () -> !consoles.isOpen("console-flood"), WAIT);

            String all = new String(ConsoleServiceTest.logged(log), StandardCharsets.ISO_8859_1);
            int at = all.indexOf(banner) + banner.length();
            String line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n";
            StringBuilder expected = new StringBuilder(n);
            while (expected.length() < n) {
                expected.append(line, 0, Math.min(line.length(), n - expected.length()));
            }
            assertTrue(all.startsWith("  Info: # lkvm run -k " + marker), all.substring(0, 200));
            assertEquals(expected.toString(), all.substring(at, at + n), "the flood, byte for byte");
            assertTrue(all.substring(at + n).startsWith("GUEST POWEROFF\r\n"), all.substring(at + n));
            assertTrue(all.endsWith("  Info: KVM session ended normally.\n"), all.substring(all.length() - 80));
        } finally {
            consoles.deactivate();
            delete(home);
        }
    }

    static void delete(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
