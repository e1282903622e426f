package org.kvmtool.manager.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a manager may rely on from lkvm 3.18 (kvmtool-facts.md and the report of issue #3), asserted against
 * a real process: the stand-in always ({@link StandinContractTest}), a real lkvm when KVMTOOL_LKVM names one
 * ({@link RealLkvmContractTest}). Every assertion here must hold for both.
 */
abstract class LkvmContract {
    static final Duration READY = Duration.ofSeconds(20); // generous: CI machines are shared
    static final Duration EXIT = Duration.ofSeconds(20);
    static final String ENDED = "  Info: KVM session ended normally.\n";

    Lkvm lkvm;

    abstract Path binary();

    static Path guest() {
        return Path.of(System.getProperty("kvmtool.test.guest"));
    }

    @BeforeEach
    void setUp() throws IOException {
        lkvm = new Lkvm(binary());
    }

    @AfterEach
    void tearDown() throws IOException {
        lkvm.close();
    }

    private Lkvm.Instance started(String name, int mb, int cpus, String... extra) throws Exception {
        Lkvm.Instance vm = lkvm.run(name, guest(), mb, cpus, extra);
        vm.awaitReady(READY);
        vm.awaitVcpus(cpus, READY);
        return vm;
    }

    private Lkvm.Instance booted(String name, int mb, int cpus, String... extra) throws Exception {
        Lkvm.Instance vm = started(name, mb, cpus, extra);
        assertTrue(vm.pty().await("GUEST READY\r\n", READY), "banner; console: " + vm.pty().transcript());
        return vm;
    }

    /** The guest echoes only once it has touched its RAM: a probe byte proves the echo loop runs. */
    private static void awaitEchoLoop(Lkvm.Instance vm) throws IOException {
        vm.pty().write("!");
        assertTrue(vm.pty().await("GUEST READY\r\n!", Duration.ofSeconds(60)), vm.pty().transcript());
    }

    @Test
    void runPrintsItsCommandLineAndTheFlatBinaryWarnings() throws Exception {
        Lkvm.Instance vm = booted("head", 64, 1);
        assertTrue(vm.stderr().startsWith("  Info: # lkvm run -k " + guest() + " -m 64 -c 1 --name head\n"
                + "  Warning: Kernel image is not a bzImage.\n"
                + "  Warning: Trying to load it as a flat binary (no cmdline support)\n"), vm.stderr());
    }

    @Test
    void versionIs3180() throws Exception {
        Lkvm.Result r = lkvm.command(EXIT, "version");
        assertTrue(r.finished());
        assertEquals("kvm tool 3.18.0\n", r.stdout());
        assertEquals(0, r.exitCode());
    }

    @Test
    void socketAppearsAndAnswersPidAndVmstate() throws Exception {
        Lkvm.Instance vm = lkvm.run("vm1", guest(), 64, 1);
        Duration ready = vm.awaitReady(READY);
        assertTrue(Files.exists(lkvm.socket("vm1")));
        assertTrue(ready.compareTo(READY) < 0);
        assertEquals((int) vm.pid(), Ipc.query(vm.socket(), Ipc.PID));
        assertEquals(0, Ipc.query(vm.socket(), Ipc.VMSTATE));
    }

    @Test
    void pauseAndResumeChangeVmstateAndList() throws Exception {
        Lkvm.Instance vm = started("pr", 64, 1);
        Ipc.command(vm.socket(), Ipc.PAUSE);
        assertEquals(1, Ipc.query(vm.socket(), Ipc.VMSTATE));
        Lkvm.Result list = lkvm.command(EXIT, "list");
        assertTrue(list.finished());
        assertEquals("   PID NAME                 STATE\n------------------------------------\n"
                + String.format("%5d %-20s %s%n", vm.pid(), "pr", "paused"), list.stdout());
        Ipc.command(vm.socket(), Ipc.RESUME);
        assertEquals(0, Ipc.query(vm.socket(), Ipc.VMSTATE));
    }

    @Test
    void lkvmPauseAndResumeCommands() throws Exception {
        Lkvm.Instance vm = started("cmds", 64, 1);
        Lkvm.Result p = lkvm.command(EXIT, "pause", "-n", "cmds");
        assertTrue(p.finished());
        assertEquals("Guest cmds paused\n", p.stdout());
        assertEquals("Guest cmds is already paused.\n", lkvm.command(EXIT, "pause", "-n", "cmds").stdout());
        assertEquals("Guest cmds resumed\n", lkvm.command(EXIT, "resume", "-n", "cmds").stdout());
        assertEquals("Guest cmds is still running.\n", lkvm.command(EXIT, "resume", "-n", "cmds").stdout());
        assertEquals(0, Ipc.query(vm.socket(), Ipc.VMSTATE));
    }

    @Test
    void stopEndsTheProcessNormally() throws Exception {
        Lkvm.Instance vm = started("stop", 64, 2);
        Ipc.command(vm.socket(), Ipc.STOP);
        assertEquals(0, vm.awaitExit(EXIT));
        assertFalse(Files.exists(vm.socket()), "socket removed");
        assertTrue(vm.stderr().endsWith(ENDED), vm.stderr());
    }

    @Test
    void stopWhilePausedWaitsForResume() throws Exception {
        Lkvm.Instance vm = started("sp", 64, 2);
        Ipc.command(vm.socket(), Ipc.PAUSE);
        Ipc.command(vm.socket(), Ipc.STOP);
        assertEquals(-1, vm.awaitExit(Duration.ofMillis(700)), "a paused guest does not stop");
        assertEquals(1, Ipc.query(vm.socket(), Ipc.VMSTATE));
        Ipc.command(vm.socket(), Ipc.RESUME);
        assertEquals(0, vm.awaitExit(EXIT));
        assertTrue(vm.stderr().endsWith(ENDED), vm.stderr());
    }

    @Test
    void sigkillLeavesAGhostThatTheNextRunRemoves() throws Exception {
        Lkvm.Instance vm = started("ghost", 64, 1);
        vm.process().destroyForcibly();
        assertEquals(128 + 9, vm.awaitExit(EXIT));
        assertTrue(Files.exists(vm.socket()), "ghost socket left");
        assertFalse(vm.stderr().contains("ended normally"));
        Lkvm.Instance again = booted("ghost", 64, 1);
        assertTrue(again.stderr().contains("  Info: Removed ghost socket file \""
                + lkvm.socketPathAsPrinted("ghost") + "\".\n"), again.stderr());
        assertEquals((int) again.pid(), Ipc.query(again.socket(), Ipc.PID));
    }

    @Test
    void sigtermAndSighupKillAtOnceLeavingAGhost() throws Exception {
        Lkvm.Instance term = booted("term", 64, 1);
        Posix.kill(term.pid(), Posix.SIGTERM);
        assertEquals(128 + Posix.SIGTERM, term.awaitExit(EXIT));
        Lkvm.Instance hup = booted("hup", 64, 1);
        Posix.kill(hup.pid(), Posix.SIGHUP);
        assertEquals(128 + Posix.SIGHUP, hup.awaitExit(EXIT));
        for (Lkvm.Instance vm : List.of(term, hup)) {
            assertTrue(Files.exists(vm.socket()), "ghost socket left");
            assertFalse(vm.stderr().contains("ended normally"), vm.stderr());
        }
    }

    @Test
    void consoleBannerEchoAndPoweroff() throws Exception {
        Lkvm.Instance vm = booted("con", 64, 1);
        awaitEchoLoop(vm);
        vm.pty().write("hello");
        assertTrue(vm.pty().await("!hello", READY), vm.pty().transcript());
        vm.pty().write("q");
        assertTrue(vm.pty().await("GUEST POWEROFF\r\n", READY), vm.pty().transcript());
        assertEquals(0, vm.awaitExit(EXIT));
        assertFalse(Files.exists(vm.socket()), "socket removed");
        assertTrue(vm.stderr().endsWith(ENDED), vm.stderr());
        assertEquals("GUEST READY\r\n!helloGUEST POWEROFF\r\n", vm.pty().transcript());
    }

    @Test
    void floodCommandWritesThePatternAndTheGuestEchoesAgain() throws Exception {
        Lkvm.Instance vm = booted("flood", 64, 1);
        awaitEchoLoop(vm);
        int n = 100_003; // not a whole number of 64-byte lines
        vm.pty().write(FLOOD + n + "\r");
        String before = "GUEST READY\r\n!";
        String expected = before + floodPattern(n);
        assertTrue(vm.pty().awaitBytes(expected.length(), Duration.ofSeconds(120)),
                "flood of " + n + ": " + (vm.pty().transcript().length() - before.length()) + " bytes");
        vm.pty().write("#ok#"); // not in the pattern
        assertTrue(vm.pty().await("#ok#", READY), "echo after the flood");
        vm.pty().write("q");
        assertTrue(vm.pty().await("#ok#GUEST POWEROFF\r\n", READY), "poweroff after the flood");
        assertEquals(0, vm.awaitExit(EXIT));
        assertTrue((expected + "#ok#GUEST POWEROFF\r\n").equals(vm.pty().transcript()), "the flood, byte for byte");
    }

    @Test
    void ctrlAIsTheEscapeAndCtrlAXEndsTheSession() throws Exception {
        Lkvm.Instance vm = booted("esc", 64, 1);
        awaitEchoLoop(vm);
        vm.pty().write("\u0001");
        vm.pty().drain(Duration.ofMillis(200));
        assertEquals("GUEST READY\r\n!", vm.pty().transcript(), "ctrl-a alone is swallowed");
        vm.pty().write("\u0001");
        assertTrue(vm.pty().await("!\u0001", READY), "ctrl-a ctrl-a sends ctrl-a: " + vm.pty().transcript());
        vm.pty().write("\u0001x");
        assertEquals(0, vm.awaitExit(EXIT));
        assertTrue(vm.stderr().endsWith(ENDED), vm.stderr());
    }

    @Test
    void threadsAreNamedLikeLkvms() throws Exception {
        Lkvm.Instance vm = booted("thr", 64, 2);
        // each thread names itself once running (prctl), as lkvm's do: wait until none is left unnamed
        List<String> names = vm.threadNames();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (names.stream().skip(1).anyMatch("lkvm"::equals) && System.nanoTime() < deadline) {
            Thread.sleep(10);
            names = vm.threadNames();
        }
        assertEquals("lkvm", names.get(0), names.toString());
        for (String n : List.of("kvm-ipc", "ioeventfd-worke", "term-poll", "threadpool-work", "kvm-vcpu-0",
                "kvm-vcpu-1")) {
            assertTrue(names.contains(n), n + " in " + names);
        }
        assertEquals(2, names.stream().filter(n -> n.startsWith("kvm-vcpu-")).count(), names.toString());
        assertEquals(Runtime.getRuntime().availableProcessors(),
                names.stream().filter(n -> n.equals("threadpool-work")).count(), names.toString());
    }

    @Test
    void anIdleIpcConnectionBlocksListUntilItCloses() throws Exception {
        Lkvm.Instance vm = started("idle", 64, 1);
        Lkvm.Result list;
        try (Ipc idle = Ipc.connect(vm.socket(), READY)) {
            Thread.sleep(300); // let the IPC thread take the idle connection
            list = lkvm.command(Duration.ofMillis(1500), "list");
            assertFalse(list.finished(), "lkvm list must hang while a client holds the IPC thread");
        }
        assertTrue(list.awaitFinish(EXIT), "list ends once the idle client has gone");
        assertTrue(list.stdout().contains(String.format("%5d %-20s %s%n", vm.pid(), "idle", "running")),
                list.stdout());
    }

    @Test
    void anIdleIpcConnectionBlocksEveryNewRequest() throws Exception {
        Lkvm.Instance vm = started("idle2", 64, 1);
        Ipc idle = Ipc.connect(vm.socket(), READY);
        Thread.sleep(300); // let the IPC thread take the idle connection
        try (Ipc waiting = Ipc.connect(vm.socket(), READY)) {
            waiting.send(Ipc.PID);
            assertTrue(waiting.readInt(Duration.ofMillis(1000)).isEmpty(), "no answer while blocked");
            idle.close();
            // read the reply before closing: lkvm dies of SIGPIPE otherwise
            assertEquals(Optional.of((int) vm.pid()), waiting.readInt(READY));
        }
    }

    @Test
    void ipcReplyWrittenToAClosedPeerKillsLkvmWithSigpipe() throws Exception {
        Lkvm.Instance vm = started("pipe", 64, 1);
        Ipc idle = Ipc.connect(vm.socket(), READY);
        Thread.sleep(300); // the IPC thread is busy with the idle client: the next request waits
        try (Ipc ipc = Ipc.connect(vm.socket(), READY)) {
            ipc.send(Ipc.VMSTATE);
        }
        idle.close(); // now lkvm reads the VMSTATE request and writes its reply to a closed peer
        assertEquals(128 + 13, vm.awaitExit(EXIT));
        assertTrue(Files.exists(vm.socket()), "ghost socket left");
    }

    @Test
    void rssGrowsWithTheMemorySize() throws Exception {
        Lkvm.Instance small = booted("m64", 64, 1);
        awaitEchoLoop(small);
        Lkvm.Instance big = booted("m256", 256, 1);
        awaitEchoLoop(big);
        long rss64 = small.rssKiB();
        long rss256 = big.rssKiB();
        assertTrue(rss64 > 60 * 1024 && rss64 < 64 * 1024 + 40 * 1024, "RSS with -m 64: " + rss64 + " KiB");
        assertTrue(rss256 - rss64 > 180 * 1024, "RSS -m 256 vs -m 64: " + rss256 + " vs " + rss64 + " KiB");
    }

    @Test
    void cpuTimeGrowsWhileRunningAndNotWhilePaused() throws Exception {
        Lkvm.Instance vm = booted("cpu", 64, 1);
        awaitEchoLoop(vm);
        long t0 = vm.cpuTicks();
        Thread.sleep(2000);
        long running = vm.cpuTicks() - t0;
        Ipc.command(vm.socket(), Ipc.PAUSE);
        Thread.sleep(100);
        long t1 = vm.cpuTicks();
        Thread.sleep(1000);
        long paused = vm.cpuTicks() - t1;
        assertTrue(running >= 5, "CPU ticks in 2 s running: " + running);
        assertTrue(paused <= 2, "CPU ticks in 1 s paused: " + paused);
    }

    @Test
    void statWithoutABalloonDriverNeverAnswers() throws Exception {
        Lkvm.Instance vm = started("stat", 64, 1, "--balloon");
        try (Ipc ipc = Ipc.connect(vm.socket(), READY)) {
            ipc.send(Ipc.STAT);
            assertTrue(ipc.read(100, Duration.ofMillis(1500)).isEmpty(), "STAT must not answer");
        }
        // the IPC thread waited on that connection only: it serves again once the client has gone
        assertEquals((int) vm.pid(), Ipc.query(vm.socket(), Ipc.PID));
    }

    @Test
    void statAndBalloonWithoutABalloonDeviceWarn() throws Exception {
        Lkvm.Instance vm = started("nobal", 64, 1);
        try (Ipc ipc = Ipc.connect(vm.socket(), READY)) {
            assertEquals(Optional.of((int) vm.pid()), ipc.call(Ipc.PID, READY));
            ipc.send(Ipc.STAT);
            assertTrue(ipc.read(100, Duration.ofMillis(500)).isEmpty());
            ipc.send(Ipc.BALLOON, le(16));
            assertEquals(Optional.of(0), ipc.call(Ipc.VMSTATE, READY));
        }
        assertTrue(vm.stderr().contains("  Warning: No device handles type 3\n\n"
                + "  Warning: No device handles type 1\n\n"), vm.stderr());
    }

    @Test
    void sysrqReachesTheGuestWithTheNextConsoleInput() throws Exception {
        Lkvm.Instance vm = booted("sysrq", 64, 1);
        awaitEchoLoop(vm);
        Ipc.command(vm.socket(), Ipc.DEBUG, debug(4, 0, 'h'));
        vm.pty().drain(Duration.ofMillis(500));
        assertEquals("GUEST READY\r\n!", vm.pty().transcript(), "nothing reaches the guest without input");
        // the break and the SysRq key take the first UART's FIFO; the byte typed goes to the next UART
        vm.pty().write("k");
        assertTrue(vm.pty().await("!\u0000h", READY), vm.pty().transcript());
        vm.pty().drain(Duration.ofMillis(300));
        assertEquals("GUEST READY\r\n!\u0000h", vm.pty().transcript());
    }

    @Test
    void debugDumpAnswersThenCloses() throws Exception {
        Lkvm.Instance vm = booted("dump", 64, 1);
        try (Ipc ipc = Ipc.connect(vm.socket(), READY)) {
            assertEquals(Optional.of((int) vm.pid()), ipc.call(Ipc.PID, READY));
            ipc.send(Ipc.DEBUG, debug(1, 0, '\0'));
            String dump = new String(ipc.readToEnd(READY).orElseThrow(), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertTrue(dump.startsWith("\n #\n # vCPU #0's dump:\n #\n\n Registers:\n ----------\n rip: "), dump);
        }
    }

    @Test
    void ttyOptionOpensItsOwnPty() throws Exception {
        Lkvm.Instance vm = lkvm.run("tty", guest(), 64, 1, "--tty", "1");
        vm.awaitReady(READY);
        assertTrue(vm.stderr().matches("(?s)  Info: Assigned terminal 1 to pty /dev/pts/[0-9]+\n\n"
                + "  Info: # lkvm run -k .*"), vm.stderr());
        vm.process().destroyForcibly();
    }

    @Test
    void ttyOptionWithoutATerminalIsFatal() throws Exception {
        Lkvm.Result r = lkvm.command(EXIT, "run", "--name", "t", "-k", guest().toString(), "--tty", "1");
        assertTrue(r.finished());
        assertEquals(128, r.exitCode());
        assertEquals("  Fatal: unable to save initial standard input settings\n", r.stderr());
    }

    @Test
    void unknownOptionIsAUsageError() throws Exception {
        Lkvm.Result r = lkvm.command(EXIT, "run", "--name", "u", "-k", guest().toString(), "--bogus");
        assertTrue(r.finished());
        assertEquals(129, r.exitCode());
        assertTrue(r.stderr().startsWith("  Error: unknown option `bogus'\n\n usage: lkvm run [<options>] [<kernel image>]\n"
                + "\nBasic options:\n        --name <guest name>\n"), r.stderr());
        assertEquals("", r.stdout());
    }

    @Test
    void missingKernelIsFatal() throws Exception {
        String missing = lkvm.home() + "/no-such-kernel";
        Lkvm.Result r = lkvm.command(EXIT, "run", "--name", "nk", "-k", missing, "-m", "64", "-c", "1",
                "--nodefaults", "-n", "mode=none");
        assertTrue(r.finished());
        assertEquals(128, r.exitCode());
        assertEquals("  Info: # lkvm run -k " + missing + " -m 64 -c 1 --name nk\n"
                + "  Fatal: Unable to open kernel " + missing + "\n", r.stderr());
        assertFalse(Files.exists(lkvm.socket("nk")));
    }

    @Test
    void aNameAlreadyRunningIsRefused() throws Exception {
        Lkvm.Instance first = started("dup", 64, 1);
        Lkvm.Result r = lkvm.command(EXIT, "run", "--name", "dup", "-k", guest().toString(), "-m", "64", "-c", "1",
                "--nodefaults", "-n", "mode=none");
        assertTrue(r.finished());
        assertEquals(128, r.exitCode());
        assertTrue(r.stderr().contains("  Error: Guest socket file " + lkvm.socketPathAsPrinted("dup")
                + " already exists.\n"), r.stderr());
        assertTrue(r.stderr().endsWith("  Warning: Failed init: kvm_ipc__init\n\n  Fatal: Initialisation failed\n"),
                r.stderr());
        assertEquals((int) first.pid(), Ipc.query(first.socket(), Ipc.PID));
    }

    @Test
    void stopOfAMissingInstanceIsFatal() throws Exception {
        Lkvm.Result r = lkvm.command(EXIT, "stop", "-n", "nobody");
        assertTrue(r.finished());
        assertEquals(128, r.exitCode());
        assertEquals("  Fatal: Failed locating instance\n", r.stderr());
    }

    /** The test guest's flood command (itests/guest): Ctrl-F, then a decimal count and one byte that ends it. */
    static final String FLOOD = "\u0006";

    /** What the test guest's flood of n bytes writes: byte i is "0-9a-zA-Z\r\n"[i % 64]. */
    static String floodPattern(long n) {
        String line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n";
        StringBuilder b = new StringBuilder((int) n);
        for (long i = 0; i < n; i++) {
            b.append(line.charAt((int) (i % 64)));
        }
        return b.toString();
    }

    static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static byte[] debug(int type, int cpu, char sysrq) {
        return ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(type).putInt(cpu)
                .put((byte) sysrq).array();
    }
}
