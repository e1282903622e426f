package org.kvmtool.manager.launch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.ExitInfo;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LkvmControl.VmState;
import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.SpawnRequest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The launch services on an lkvm: the stand-in (system property kvmtool.standin.lkvm) and the real
 * one when KVMTOOL_LKVM names it. Guests: the test guest (kvmtool.test.guest), or for the stand-in
 * its marker files ("KVMTOOL-STANDIN linux", "crash-after-ms=N"...). Skipped when neither binary exists.
 */
class LkvmIntegrationTest {
    @TempDir
    Path home;

    private PosixProcessSpawner spawner;
    private SocketLkvmControl control;
    private PidfdExitWatcher watcher;
    private final List<ProcessIdentity> started = new ArrayList<>();
    private TestConsole console;
    private int master;

    static Stream<Arguments> binaries() {
        List<Arguments> out = new ArrayList<>();
        Fixtures.standin().ifPresent(p -> out.add(Arguments.of("stand-in", p)));
        Fixtures.realLkvm().ifPresent(p -> out.add(Arguments.of("real", p)));
        if (out.isEmpty()) {
            out.add(Arguments.of("none", null)); // reported as skipped, with the reason
        }
        return out.stream();
    }

    @BeforeEach
    void setUp() throws IOException {
        spawner = Fixtures.spawner();
        control = new SocketLkvmControl(Path.of("/proc"), Duration.ofSeconds(2), Duration.ofMillis(300),
                Duration.ofSeconds(5));
        watcher = new PidfdExitWatcher();
        console = new TestConsole();
        master = console.master;
    }

    @AfterEach
    void tearDown() throws Exception {
        started.forEach(Fixtures::killQuietly);
        for (ProcessIdentity p : started) {
            watcher.watch(p, home.resolve("x.sock").toString(), i -> { });
            Fixtures.awaitGone(p.pid());
        }
        watcher.close();
        System.out.println("console of " + this + ":\n" + console.text());
        console.close();
    }

    private static void need(Path lkvm) {
        assumeTrue(lkvm != null, "no lkvm: neither the stand-in (kvmtool.standin.lkvm) nor KVMTOOL_LKVM is there");
    }

    /** The test guest if built, else a stand-in marker file (real lkvm needs the test guest). */
    private Path kernel(String kind, String markerTokens) throws IOException {
        if (markerTokens == null && Fixtures.guest().isPresent()) {
            return Fixtures.guest().get();
        }
        assumeTrue(kind.equals("stand-in"), "this case needs the stand-in's marker guests");
        String tokens = markerTokens == null ? "" : markerTokens;
        return Files.writeString(home.resolve("kernel-" + tokens.hashCode()), "KVMTOOL-STANDIN " + tokens + "\n");
    }

    private static List<String> argv(Path lkvm, String name, Path kernel) {
        return List.of(lkvm.toString(), "run", "--name", name, "-k", kernel.toString(), "-m", "16", "-c", "1",
                "--nodefaults", "-n", "mode=none");
    }

    private String socket(String name) {
        return home.resolve(".lkvm/" + name + ".sock").toString();
    }

    private ProcessIdentity start(Path lkvm, String name, Path kernel) {
        ProcessIdentity id = spawner.spawn(Fixtures.request(argv(lkvm, name, kernel), home, master));
        started.add(id);
        return id;
    }

    private CompletableFuture<ExitInfo> watch(ProcessIdentity id, String socket) {
        CompletableFuture<ExitInfo> f = new CompletableFuture<>();
        watcher.watch(id, socket, f::complete);
        return f;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void startPauseResumeAndStopWithTheRightExitCause(String kind, Path lkvm) throws Exception {
        need(lkvm);
        ProcessIdentity id = start(lkvm, "vm1", kernel(kind, null));
        CompletableFuture<ExitInfo> exit = watch(id, socket("vm1"));
        assertEquals(id.pid(), control.awaitReady(socket("vm1"), id, Duration.ofSeconds(10)));
        assertEquals(List.of("HOME=" + home, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"), Fixtures.environ(id.pid()));
        for (String fd : List.of("0", "1", "2")) {
            assertEquals("/dev/ptmx", Files.readSymbolicLink(Path.of("/proc/" + id.pid() + "/fd/" + fd)).toString());
        }
        assertEquals(VmState.RUNNING, control.vmState(socket("vm1")));
        control.pause(socket("vm1"));
        assertEquals(VmState.PAUSED, control.vmState(socket("vm1")));
        control.stop(socket("vm1")); // kvmtool ignores STOP while paused
        assertFalse(exit.isDone() || !exitAbsentFor(exit, 300), "STOP while paused ended lkvm");
        control.terminate(id, socket("vm1"), Duration.ofSeconds(5));
        ExitInfo info = exit.get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.NORMAL, info.kind(), info.toString());
        assertEquals(0, info.exitCode());
        assertFalse(info.ghostSocketRemoved(), "lkvm removed its socket itself");
        assertFalse(Files.exists(Path.of("/proc/" + id.pid())));
    }

    private static boolean exitAbsentFor(CompletableFuture<ExitInfo> exit, long millis) throws Exception {
        try {
            exit.get(millis, TimeUnit.MILLISECONDS);
            return false;
        } catch (java.util.concurrent.TimeoutException e) {
            return true;
        }
    }

    /**
     * The manager away (its console end closed, as in a Karaf restart): lkvm keeps its own slave (the helper's
     * TIOCGPTPEER), so the pty does not hang up. Were the manager's the last slave, its close would hang the
     * pty up, and lkvm's console thread spins a CPU on that hang-up until a slave is opened again (measured on
     * the real lkvm; the stand-in does the same). POLLHUP on a copy of the master is that hang-up.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void thePtyDoesNotHangUpWhileTheManagerIsAway(String kind, Path lkvm) throws Exception {
        need(lkvm);
        int pty = TestConsole.rawMaster();
        try {
            ProcessIdentity id = spawner.spawn(Fixtures.request(argv(lkvm, "vm1", kernel(kind, null)), home, pty));
            started.add(id);
            control.awaitReady(socket("vm1"), id, Duration.ofSeconds(10));
            int managers = Fixtures.POSIX.open(TestConsole.slavePath(pty), Posix.O_RDWR | Posix.O_NOCTTY);
            Fixtures.POSIX.close(managers);
            assertFalse(TestConsole.hungUp(pty), "the pty hung up when the manager's end closed");
            Fixtures.killQuietly(id);
            watch(id, socket("vm1")).get(5, TimeUnit.SECONDS);
            assertTrue(TestConsole.hungUp(pty), "and it does once lkvm, the last holder of a slave, is gone");
        } finally {
            Fixtures.POSIX.close(pty);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void readinessIsNotAskedWhileLkvmDropsRequests(String kind, Path lkvm) throws Exception {
        need(lkvm);
        // lkvm listens, then registers its request handlers: a PID asked in between is never answered
        ProcessIdentity id = start(lkvm, "vm1", kernel(kind, "handlers-delay-ms=400"));
        long t0 = System.nanoTime();
        assertEquals(id.pid(), control.awaitReady(socket("vm1"), id, Duration.ofSeconds(10)));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 1500, "ready after " + ms + " ms: a dropped PID request costs the whole IPC timeout");
        assertEquals(VmState.RUNNING, control.vmState(socket("vm1")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void killedLkvmIsSignaledAndItsGhostSocketRemoved(String kind, Path lkvm) throws Exception {
        need(lkvm);
        ProcessIdentity id = start(lkvm, "vm2", kernel(kind, null));
        control.awaitReady(socket("vm2"), id, Duration.ofSeconds(10));
        CompletableFuture<ExitInfo> exit = watch(id, socket("vm2"));
        spawner.signal(id, Posix.SIGKILL);
        ExitInfo info = exit.get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.SIGNALED, info.kind());
        assertEquals(Posix.SIGKILL, info.signal());
        assertTrue(info.ghostSocketRemoved());
        assertFalse(Files.exists(Path.of(socket("vm2"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void aGuestThatPowersItselfOffEndsNormally(String kind, Path lkvm) throws Exception {
        need(lkvm);
        ProcessIdentity id = start(lkvm, "vm3", kernel(kind, "poweroff-after-ms=300"));
        CompletableFuture<ExitInfo> exit = watch(id, socket("vm3"));
        ExitInfo info = exit.get(10, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.NORMAL, info.kind());
        assertFalse(info.ghostSocketRemoved());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void aCrashingLkvmIsSignaled(String kind, Path lkvm) throws Exception {
        need(lkvm);
        ProcessIdentity id = start(lkvm, "vm4", kernel(kind, "crash-after-ms=300"));
        ExitInfo info = watch(id, socket("vm4")).get(10, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.SIGNALED, info.kind());
        assertEquals(11, info.signal());
        assertTrue(info.ghostSocketRemoved());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void aFailedStartIsFailedWithItsExitCode(String kind, Path lkvm) throws Exception {
        need(lkvm);
        ProcessIdentity id = start(lkvm, "vm5", kernel(kind, "fail=cpu"));
        ExitInfo info = watch(id, socket("vm5")).get(10, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.FAILED, info.kind());
        assertTrue(info.exitCode() > 0);
        KvmtoolException e = assertThrows(KvmtoolException.class,
                () -> control.awaitReady(socket("vm5"), id, Duration.ofSeconds(5)));
        assertEquals(ErrorCode.OPERATION_FAILED, e.code());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void statWithABalloonDriverAnswersAndGracefulShutdownEndsLkvm(String kind, Path lkvm) throws Exception {
        need(lkvm);
        // the marker file is written once: rewriting it (truncate, write) while the stand-in reads it gave an
        // empty kernel, which lkvm refuses ("read"), or a guest without its "linux" marker (no SysRq)
        ProcessIdentity id = start(lkvm, "vm6", kernel(kind, "linux"));
        CompletableFuture<ExitInfo> exit = watch(id, socket("vm6"));
        control.awaitReady(socket("vm6"), id, Duration.ofSeconds(10));
        control.gracefulShutdown(socket("vm6"), () -> console.type(new byte[] {'\r'}));
        ExitInfo info = exit.get(10, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.NORMAL, info.kind(), "SysRq b resets the guest, which ends lkvm");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void balloonStatsAreRead(String kind, Path lkvm) throws Exception {
        need(lkvm);
        Path kernel = kernel(kind, "linux");
        List<String> argv = new ArrayList<>(argv(lkvm, "vm7", kernel));
        argv.add("--balloon");
        ProcessIdentity id = spawner.spawn(Fixtures.request(argv, home, master));
        started.add(id);
        control.awaitReady(socket("vm7"), id, Duration.ofSeconds(10));
        Map<String, Long> stats = control.stat(socket("vm7"), Duration.ofSeconds(3));
        assertFalse(stats.isEmpty());
        control.balloon(socket("vm7"), 4);
        assertEquals(id.pid(), control.pid(socket("vm7")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void statWithoutABalloonDriverTimesOutAndTerminateStillEndsLkvm(String kind, Path lkvm) throws Exception {
        need(lkvm);
        ProcessIdentity id = start(lkvm, "vm8", kernel(kind, null));
        CompletableFuture<ExitInfo> exit = watch(id, socket("vm8"));
        control.awaitReady(socket("vm8"), id, Duration.ofSeconds(10));
        long t0 = System.nanoTime();
        KvmtoolException e = assertThrows(KvmtoolException.class,
                () -> control.stat(socket("vm8"), Duration.ofMillis(300)));
        assertEquals(ErrorCode.OPERATION_TIMEOUT, e.code());
        assertTrue((System.nanoTime() - t0) / 1_000_000 < 1_500);
        control.terminate(id, socket("vm8"), Duration.ofSeconds(1));
        assertTrue(exit.get(10, TimeUnit.SECONDS) != null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void anLkvmStartedByAParentThatIsGoneIsAdopted(String kind, Path lkvm) throws Exception {
        need(lkvm);
        Path kernel = kernel(kind, null);
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", String.join(" ", argv(lkvm, "vm9", kernel))
                + " </dev/null >/dev/null 2>&1 & echo $!");
        pb.environment().put("HOME", home.toString());
        Process parent = pb.start();
        long pid = Long.parseLong(new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
        assertEquals(0, parent.waitFor());
        ProcessIdentity id = Fixtures.identifyExecd(spawner, pid, cmd -> cmd.equals(argv(lkvm, "vm9", kernel)));
        started.add(id);
        control.awaitReady(socket("vm9"), id, Duration.ofSeconds(10));
        CompletableFuture<ExitInfo> exit = watch(id, socket("vm9"));
        control.terminate(id, socket("vm9"), Duration.ofSeconds(5));
        ExitInfo info = exit.get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.NORMAL, info.kind());
        assertEquals(-1, info.exitCode());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaries")
    void inSystemModeLkvmRunsUnprivileged(String kind, Path lkvm) throws Exception {
        need(lkvm);
        assumeTrue(Fixtures.isRoot(), "switching users needs root");
        assumeTrue(kind.equals("stand-in"), "the real lkvm needs /dev/kvm access for the unprivileged user");
        Path kernel = kernel(kind, null);
        Fixtures.letOthersSearch(home.getParent());
        Files.setPosixFilePermissions(kernel, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setAttribute(home, "unix:uid", 65534);
        ProcessIdentity id = spawner.spawn(new SpawnRequest(argv(lkvm, "vm10", kernel), home.toString(), master,
                List.of(), 65534, 65534, List.of()));
        started.add(id);
        assertEquals(id.pid(), control.awaitReady(socket("vm10"), id, Duration.ofSeconds(10)));
        assertEquals("65534\t65534\t65534\t65534", Fixtures.statusField(id.pid(), "Uid"));
        assertEquals(65534, Files.getAttribute(Path.of(socket("vm10")), "unix:uid"));
    }
}
