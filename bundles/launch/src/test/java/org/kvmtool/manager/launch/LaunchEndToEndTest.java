package org.kvmtool.manager.launch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ExitInfo;
import org.kvmtool.manager.api.LkvmControl.VmState;
import org.kvmtool.manager.api.ProcessIdentity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spawner, IPC and exit watcher together on a real process that speaks kvmtool's IPC (the module's
 * ipc-answerer): every exit cause, for a child and for a process adopted from another parent.
 */
class LaunchEndToEndTest {
    @TempDir
    Path home;

    private Path answerer;
    private PosixProcessSpawner spawner;
    private SocketLkvmControl control;
    private PidfdExitWatcher watcher;
    private final List<ProcessIdentity> started = new ArrayList<>();
    private int master;

    @BeforeEach
    void setUp() throws IOException {
        answerer = Path.of(System.getProperty("launch.test.answerer", "target/test-bin/ipc-answerer"));
        spawner = Fixtures.spawner();
        control = new SocketLkvmControl(Path.of("/proc"), Duration.ofSeconds(2), Duration.ofMillis(10),
                Duration.ofSeconds(5));
        watcher = new PidfdExitWatcher();
        master = Fixtures.ptyMaster();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (ProcessIdentity p : started) {
            Fixtures.killQuietly(p);
        }
        for (ProcessIdentity p : started) {
            watcher.watch(p, home.resolve("x.sock").toString(), i -> { });
            Fixtures.awaitGone(p.pid());
        }
        watcher.close();
        Fixtures.POSIX.close(master);
    }

    private String socket(String name) {
        return home.resolve(".lkvm/" + name + ".sock").toString();
    }

    private ProcessIdentity start(String name, String... extra) {
        List<String> argv = new ArrayList<>(List.of(answerer.toString(), "--name", name));
        argv.addAll(List.of(extra));
        ProcessIdentity id = spawner.spawn(Fixtures.request(argv, home, master));
        started.add(id);
        assertEquals(id.pid(), control.awaitReady(socket(name), id, Duration.ofSeconds(5)));
        return id;
    }

    private CompletableFuture<ExitInfo> watch(ProcessIdentity id, String socket) {
        CompletableFuture<ExitInfo> f = new CompletableFuture<>();
        watcher.watch(id, socket, f::complete);
        return f;
    }

    @Test
    void stoppedOnRequestEndsNormallyWithTheSocketRemoved() throws Exception {
        ProcessIdentity id = start("vm1");
        CompletableFuture<ExitInfo> exit = watch(id, socket("vm1"));
        assertEquals(VmState.RUNNING, control.vmState(socket("vm1")));
        control.terminate(id, socket("vm1"), Duration.ofSeconds(5));
        ExitInfo info = exit.get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.NORMAL, info.kind());
        assertEquals(0, info.exitCode());
        assertFalse(info.ghostSocketRemoved());
        assertFalse(Files.exists(Path.of(socket("vm1"))));
        assertFalse(Files.exists(Path.of("/proc/" + id.pid())), "reaped");
    }

    @Test
    void aFailingExitCodeIsFailed() throws Exception {
        ProcessIdentity id = start("vm2", "--exit-code", "2");
        CompletableFuture<ExitInfo> exit = watch(id, socket("vm2"));
        control.stop(socket("vm2"));
        ExitInfo info = exit.get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.FAILED, info.kind());
        assertEquals(2, info.exitCode());
    }

    @Test
    void killedBySignalLeavesAGhostThatTheWatcherRemoves() throws Exception {
        ProcessIdentity id = start("vm3");
        CompletableFuture<ExitInfo> exit = watch(id, socket("vm3"));
        spawner.signal(id, Posix.SIGKILL);
        ExitInfo info = exit.get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.SIGNALED, info.kind());
        assertEquals(Posix.SIGKILL, info.signal());
        assertTrue(info.ghostSocketRemoved());
        assertFalse(Files.exists(Path.of(socket("vm3"))));
    }

    /** Like a manager restart: the process was started by a parent that is gone, and is watched anew. */
    private ProcessIdentity adopt(String name) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c",
                answerer + " --name " + name + " </dev/null >/dev/null 2>&1 & echo $!").redirectErrorStream(true);
        pb.environment().put("HOME", home.toString());
        Process parent = pb.start();
        String pid = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, parent.waitFor());
        ProcessIdentity id = Fixtures.identifyExecd(spawner, Long.parseLong(pid), argv -> argv.contains(name));
        started.add(id);
        assertFalse(Fixtures.statField(id.pid(), 4).equals(Long.toString(ProcessHandle.current().pid())),
                "not a child of this JVM");
        return id;
    }

    @Test
    void anAdoptedLkvmStoppedOnRequestIsNormal() throws Exception {
        ProcessIdentity id = adopt("adopted1");
        String sock = socket("adopted1");
        assertEquals(id.pid(), control.awaitReady(sock, id, Duration.ofSeconds(5)));
        CompletableFuture<ExitInfo> exit = watch(id, sock);
        control.stop(sock);
        ExitInfo info = exit.get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.NORMAL, info.kind());
        assertEquals(-1, info.exitCode());
        assertFalse(info.ghostSocketRemoved());
    }

    @Test
    void anAdoptedLkvmKilledIsSignaledAndItsGhostRemoved() throws Exception {
        ProcessIdentity id = adopt("adopted2");
        String sock = socket("adopted2");
        control.awaitReady(sock, id, Duration.ofSeconds(5));
        CompletableFuture<ExitInfo> exit = watch(id, sock);
        spawner.signal(id, Posix.SIGKILL);
        ExitInfo info = exit.get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.SIGNALED, info.kind());
        assertTrue(info.ghostSocketRemoved());
        assertFalse(Files.exists(Path.of(sock)));
    }
}
