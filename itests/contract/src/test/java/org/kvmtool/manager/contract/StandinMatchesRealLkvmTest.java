package org.kvmtool.manager.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The same session through the stand-in and through a real lkvm (KVMTOOL_LKVM), compared byte for byte: what
 * the contract asserts of each, here asserted of the two against each other.
 */
@EnabledIfEnvironmentVariable(named = "KVMTOOL_LKVM", matches = ".+",
        disabledReason = "KVMTOOL_LKVM is not set: no real lkvm to compare the stand-in with")
class StandinMatchesRealLkvmTest {
    private static final Duration T = Duration.ofSeconds(20);
    private static final Duration FLOOD_TIME = Duration.ofMinutes(5); // 1 MiB: about 22 s on the real lkvm here

    private static Path standin() {
        return Path.of(System.getProperty("kvmtool.standin.lkvm"));
    }

    private static Path real() {
        return Path.of(System.getenv("KVMTOOL_LKVM"));
    }

    /** What a session left: the console transcript, stderr and the exit code. */
    private record Outcome(String console, String stderr, int exit) {
    }

    /** Banner, an echo, the flood command without a count (1 MiB), with a count of 64, an echo, 'q'. */
    private static Outcome floodSession(Path binary) throws Exception {
        try (Lkvm lkvm = new Lkvm(binary)) {
            Lkvm.Instance vm = lkvm.run("fl", LkvmContract.guest(), 64, 1);
            vm.awaitReady(T);
            assertTrue(vm.pty().await("GUEST READY\r\n", T), vm.pty().transcript());
            vm.pty().write("!");
            assertTrue(vm.pty().await("GUEST READY\r\n!", Duration.ofSeconds(60)), vm.pty().transcript());
            int at = vm.pty().transcript().length();
            vm.pty().write(LkvmContract.FLOOD + ";");
            assertTrue(vm.pty().awaitBytes(at + (1 << 20), FLOOD_TIME), binary + ": the default flood of 1 MiB");
            vm.pty().write(LkvmContract.FLOOD + "64x");
            assertTrue(vm.pty().awaitBytes(at + (1 << 20) + 64, T), binary + ": the flood of 64");
            vm.pty().write("#hi#"); // not in the pattern
            assertTrue(vm.pty().await("#hi#", T), binary + ": echo after the floods");
            vm.pty().write("q");
            assertTrue(vm.pty().await("#hi#GUEST POWEROFF\r\n", T), binary + ": poweroff");
            int exit = vm.awaitExit(T); // stderr is complete once lkvm has ended
            return new Outcome(vm.pty().transcript(), vm.stderr(), exit);
        }
    }

    @Test
    void floodCommandWritesTheSameBytes() throws Exception {
        Outcome real = floodSession(real());
        Outcome standin = floodSession(standin());
        String expected = "GUEST READY\r\n!" + LkvmContract.floodPattern(1 << 20) + LkvmContract.floodPattern(64)
                + "#hi#GUEST POWEROFF\r\n";
        assertEquals(expected.length(), real.console().length(), "the real lkvm's console");
        assertTrue(expected.equals(real.console()), "the real lkvm wrote the documented pattern");
        assertTrue(real.console().equals(standin.console()), "the stand-in's console, byte for byte");
        assertEquals(real.stderr(), standin.stderr());
        assertEquals(0, real.exit());
        assertEquals(real.exit(), standin.exit());
    }
}
