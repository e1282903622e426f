package org.kvmtool.manager.launch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ExitInfo;
import org.kvmtool.manager.api.ProcessIdentity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PidfdExitWatcherTest {
    @TempDir
    Path home;

    private PosixProcessSpawner spawner;
    private PidfdExitWatcher watcher;
    private final List<ProcessIdentity> started = new ArrayList<>();
    private int devNull;

    @BeforeEach
    void setUp() throws IOException {
        spawner = Fixtures.spawner();
        watcher = new PidfdExitWatcher();
        devNull = Fixtures.devNull();
    }

    @AfterEach
    void tearDown() throws Exception {
        watcher.close();
        for (ProcessIdentity p : started) {
            Fixtures.killQuietly(p);
        }
        try (PidfdExitWatcher reaper = new PidfdExitWatcher()) {
            for (ProcessIdentity p : started) {
                reaper.watch(p, home.resolve("x.sock").toString(), i -> { });
                Fixtures.awaitGone(p.pid());
            }
        }
        Fixtures.POSIX.close(devNull);
    }

    private ProcessIdentity spawnShell(String script) {
        ProcessIdentity id = spawner.spawn(Fixtures.request(List.of("/bin/sh", "-c", script), home, devNull));
        started.add(id);
        return id;
    }

    private ProcessIdentity spawnSleep() {
        ProcessIdentity id = spawner.spawn(Fixtures.request(List.of("/bin/sleep", "30"), home, devNull));
        started.add(id);
        return id;
    }

    private CompletableFuture<ExitInfo> watch(ProcessIdentity id, Path socket) {
        CompletableFuture<ExitInfo> f = new CompletableFuture<>();
        watcher.watch(id, socket.toString(), f::complete);
        return f;
    }

    @Test
    void childrenThatEndAtOnceAreAllReapedWithTheirStatus() throws Exception {
        // Watching races the child's exit: it may be running, exiting (cmdline already empty) or a zombie.
        List<CompletableFuture<ExitInfo>> exits = new ArrayList<>();
        List<ProcessIdentity> ids = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            ProcessIdentity id = spawner.spawn(Fixtures.request(List.of("/bin/sh", "-c", "exit 7"), home, devNull));
            ids.add(id);
            exits.add(watch(id, home.resolve("none.sock")));
        }
        for (int i = 0; i < ids.size(); i++) {
            ExitInfo info = exits.get(i).get(10, TimeUnit.SECONDS);
            assertEquals(7, info.exitCode(), "pid " + ids.get(i).pid());
            assertTrue(Fixtures.awaitGone(ids.get(i).pid()), "reaped: pid " + ids.get(i).pid());
        }
    }

    @Test
    void aNormalEndOfAChildIsReportedWithItsStatusAndReaped() throws Exception {
        Path socket = home.resolve("vm.sock");
        // like lkvm: the socket exists while it runs and is removed on a normal end
        ProcessIdentity id = spawnShell("touch " + socket + "; sleep 0.2; rm " + socket + "; exit 0");
        ExitInfo info = watch(id, socket).get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.NORMAL, info.kind());
        assertEquals(0, info.exitCode());
        assertFalse(info.ghostSocketRemoved());
        assertEquals(id, info.process());
        assertFalse(Files.exists(Path.of("/proc/" + id.pid())), "reaped: no zombie");
    }

    @Test
    void aFailedExitCarriesTheCode() throws Exception {
        ProcessIdentity id = spawnShell("sleep 0.1; exit 3");
        ExitInfo info = watch(id, home.resolve("vm.sock")).get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.FAILED, info.kind());
        assertEquals(3, info.exitCode());
        assertFalse(Files.exists(Path.of("/proc/" + id.pid())), "reaped: no zombie");
    }

    @Test
    void aSignaledChildLeavesAGhostSocketThatIsCleaned() throws Exception {
        Path socket = Files.createFile(home.resolve("vm.sock"));
        ProcessIdentity id = spawnSleep();
        CompletableFuture<ExitInfo> f = watch(id, socket);
        Thread.sleep(50);
        assertFalse(f.isDone());
        long sent = System.nanoTime();
        spawner.signal(id, Posix.SIGTERM);
        ExitInfo info = f.get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.SIGNALED, info.kind());
        assertEquals(Posix.SIGTERM, info.signal());
        assertTrue(info.ghostSocketRemoved());
        assertFalse(Files.exists(socket));
        assertTrue(info.nanoTime() > sent);
        assertFalse(Files.exists(Path.of("/proc/" + id.pid())));
    }

    @Test
    void aChildThatEndedBeforeTheWatchIsReportedAtOnceWithItsStatus() throws Exception {
        ProcessIdentity id = spawnShell("exit 7");
        Thread.sleep(100); // a zombie now
        ExitInfo info = watch(id, home.resolve("vm.sock")).get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.FAILED, info.kind());
        assertEquals(7, info.exitCode());
        assertTrue(Fixtures.awaitGone(id.pid()));
    }

    /** Starts a process from another parent, which then exits: the process is adopted by init. */
    private ProcessIdentity orphan(String script) throws Exception {
        Process parent = new ProcessBuilder("/bin/sh", "-c", "{ " + script + "; } </dev/null >/dev/null 2>&1 & echo $!")
                .start();
        String pid = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, parent.waitFor());
        // a script that execs its program is identified as that program, not as the shell before its exec
        String program = script.startsWith("exec ") ? script.split(" ")[1] : null;
        ProcessIdentity id = Fixtures.identifyExecd(spawner, Long.parseLong(pid),
                argv -> program == null || argv.get(0).equals(program));
        assertNotEquals(Long.toString(ProcessHandle.current().pid()), Fixtures.statField(id.pid(), 4),
                "not our child");
        return id;
    }

    @Test
    void anAdoptedProcessThatEndsNormallyIsInferredFromItsRemovedSocket() throws Exception {
        Path socket = home.resolve("adopted.sock");
        Files.createFile(socket);
        ProcessIdentity id = orphan("sleep 0.3; rm " + socket);
        ExitInfo info = watch(id, socket).get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.NORMAL, info.kind());
        assertEquals(-1, info.exitCode(), "not our child: the status is unknown");
        assertFalse(info.ghostSocketRemoved());
    }

    @Test
    void anAdoptedProcessKilledBySignalIsInferredFromItsGhostSocket() throws Exception {
        Path socket = home.resolve("adopted.sock");
        Files.createFile(socket);
        ProcessIdentity id = orphan("exec /bin/sleep 30");
        CompletableFuture<ExitInfo> f = watch(id, socket);
        spawner.signal(id, Posix.SIGKILL);
        ExitInfo info = f.get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.SIGNALED, info.kind());
        assertEquals(0, info.signal(), "which signal is unknown for a non-child");
        assertTrue(info.ghostSocketRemoved());
        assertFalse(Files.exists(socket));
    }

    @Test
    void aRecordedProcessWhosePidWasRecycledIsReportedEnded() throws Exception {
        ProcessIdentity id = spawnSleep();
        ProcessIdentity stale = new ProcessIdentity(id.pid(), id.startTime() - 1, id.cmdline());
        Path socket = Files.createFile(home.resolve("old.sock"));
        ExitInfo info = watch(stale, socket).get(5, TimeUnit.SECONDS);
        assertEquals(ExitInfo.Kind.SIGNALED, info.kind());
        assertTrue(info.ghostSocketRemoved());
        assertTrue(spawner.isAlive(id), "the process that now has the pid is left alone");
    }

    @Test
    void aCancelledWatchNeverCallsItsListener() throws Exception {
        ProcessIdentity id = spawnSleep();
        AtomicInteger calls = new AtomicInteger();
        AutoCloseable handle = watcher.watch(id, home.resolve("vm.sock").toString(), i -> calls.incrementAndGet());
        handle.close();
        CompletableFuture<ExitInfo> other = watch(id, home.resolve("vm.sock"));
        spawner.signal(id, Posix.SIGKILL);
        assertEquals(ExitInfo.Kind.SIGNALED, other.get(5, TimeUnit.SECONDS).kind());
        Thread.sleep(50);
        assertEquals(0, calls.get());
    }

    @Test
    void closingTheWatcherLeavesProcessesRunning() throws Exception {
        ProcessIdentity id = spawnSleep();
        watch(id, home.resolve("vm.sock"));
        watcher.close();
        Thread.sleep(50);
        assertTrue(spawner.isAlive(id));
    }

    @Test
    void oneThreadWatchesManyProcessesEachReportedOnce() throws Exception {
        int n = 40;
        CountDownLatch all = new CountDownLatch(n);
        Map<Long, AtomicInteger> calls = new ConcurrentHashMap<>();
        int threadsBefore = Thread.activeCount();
        for (int i = 0; i < n; i++) {
            ProcessIdentity id = spawnShell("sleep 0." + (i % 5) + "; exit " + (i % 3));
            calls.put(id.pid(), new AtomicInteger());
            int expected = i % 3;
            watcher.watch(id, home.resolve(i + ".sock").toString(), info -> {
                calls.get(info.process().pid()).incrementAndGet();
                if (info.exitCode() == expected) {
                    all.countDown();
                }
            });
        }
        assertTrue(Thread.activeCount() <= threadsBefore, "no thread per process");
        assertTrue(all.await(10, TimeUnit.SECONDS));
        Thread.sleep(50);
        calls.values().forEach(c -> assertEquals(1, c.get()));
        calls.keySet().forEach(pid -> assertFalse(Files.exists(Path.of("/proc/" + pid)), "reaped: " + pid));
    }
}
