package org.kvmtool.manager.launch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.SpawnRequest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PosixProcessSpawnerTest {
    @TempDir
    Path home;

    private PosixProcessSpawner spawner;
    private PidfdExitWatcher reaper;
    private final List<ProcessIdentity> started = new ArrayList<>();
    private final List<Integer> fds = new ArrayList<>();
    private final List<Path> cgroups = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        spawner = Fixtures.spawner();
        reaper = new PidfdExitWatcher();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (ProcessIdentity p : started) {
            Fixtures.killQuietly(p);
            Fixtures.awaitGone(p.pid());
        }
        reaper.close();
        fds.forEach(Fixtures.POSIX::close);
        for (Path cg : cgroups) {
            Files.deleteIfExists(cg); // rmdir of an empty cgroup
        }
    }

    private int fd(int fd) {
        fds.add(fd);
        return fd;
    }

    /** Spawns and lets the watcher reap it when it ends. */
    private ProcessIdentity spawn(SpawnRequest request) {
        ProcessIdentity id = spawner.spawn(request);
        started.add(id);
        reaper.watch(id, home.resolve("none.sock").toString(), info -> { });
        return id;
    }

    @Test
    void childRunsInItsOwnSessionWithOnlyStdioAndAScrubbedEnvironment() throws Exception {
        int master = fd(TestConsole.rawMaster());
        ProcessIdentity id = spawn(Fixtures.request(List.of("/bin/sleep", "30"), home, master));

        assertEquals(List.of("/bin/sleep", "30"), id.cmdline());
        // 0-2: the pty master; 5: its slave, kept by the program itself so that the pty never hangs up
        assertEquals(List.of("0", "1", "2", "5"), Fixtures.fds(id.pid()), "no descriptor of the JVM leaks");
        for (String n : List.of("0", "1", "2")) {
            assertEquals("/dev/ptmx", Files.readSymbolicLink(Path.of("/proc", "" + id.pid(), "fd", n)).toString());
        }
        String pts = Files.readSymbolicLink(Path.of("/proc", "" + id.pid(), "fd", "5")).toString();
        assertTrue(pts.matches("/dev/pts/\\d+"), pts);
        assertTrue(Files.readAllLines(Path.of("/proc", "" + id.pid(), "fdinfo", "0")).stream().anyMatch(l ->
                l.matches("tty-index:\\s*" + pts.substring("/dev/pts/".length()))), "the slave of that very master");
        assertEquals(List.of("HOME=" + home, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"), Fixtures.environ(id.pid()));
        assertEquals(Long.toString(id.pid()), Fixtures.statField(id.pid(), 6), "session leader (setsid)");
        assertEquals(home.toRealPath(), Path.of("/proc", "" + id.pid(), "cwd").toRealPath());
        assertEquals("0000000000000000", Fixtures.statusField(id.pid(), "SigBlk"));
        assertEquals("0000000000000000", Fixtures.statusField(id.pid(), "SigIgn"));
    }

    @Test
    void aPipeAsStdioCarriesOutputAndNothingElseLeaks() throws Exception {
        int[] pipe = Fixtures.POSIX.pipe();
        fd(pipe[0]);
        int w = fd(pipe[1]);
        ProcessIdentity id = spawn(Fixtures.request(List.of("/bin/sh", "-c", "ls /proc/self/fd; echo \"$HOME\""),
                home, w));
        Fixtures.POSIX.close(w);
        fds.remove((Integer) w);
        String out = Fixtures.drain(pipe[0]);
        // ls itself opens the directory it lists as fd 3
        assertEquals(List.of("0", "1", "2", "3", home.toString()), out.lines().toList());
        assertTrue(Fixtures.awaitGone(id.pid()));
    }

    @Test
    void identityMatchesOnlyTheSameProcess() throws Exception {
        ProcessIdentity id = spawn(Fixtures.request(List.of("/bin/sleep", "30"), home, fd(Fixtures.devNull())));

        assertEquals(id, spawner.identify(id.pid()).orElseThrow());
        assertTrue(spawner.isAlive(id));
        ProcessIdentity wrongStart = new ProcessIdentity(id.pid(), id.startTime() + 1, id.cmdline());
        ProcessIdentity wrongCmd = new ProcessIdentity(id.pid(), id.startTime(), List.of("/bin/sleep", "31"));
        assertFalse(spawner.isAlive(wrongStart), "a recycled pid (other start time) must not match");
        assertFalse(spawner.isAlive(wrongCmd));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> spawner.signal(wrongStart, Posix.SIGKILL));
        assertEquals(ErrorCode.OPERATION_FAILED, e.code());
        assertThrows(KvmtoolException.class, () -> spawner.signal(wrongCmd, Posix.SIGKILL));
        Thread.sleep(20);
        assertTrue(spawner.isAlive(id), "the refused signals reached nobody");

        spawner.signal(id, Posix.SIGKILL);
        assertTrue(Fixtures.awaitGone(id.pid()), "killed and reaped");
        assertFalse(spawner.isAlive(id));
        assertTrue(spawner.identify(id.pid()).isEmpty());
    }

    @Test
    void beforeExecRunsWhileTheHelperHoldsTheProgram() throws Exception {
        Path marker = home.resolve("ran");
        // the shell stays the process (a loop is never exec'd away), so the identity holds throughout
        List<String> argv = List.of("/bin/sh", "-c", "touch " + marker + "; while :; do sleep 1; done");
        List<String> seen = new ArrayList<>();
        ProcessIdentity id = spawner.spawn(Fixtures.request(argv, home, fd(Fixtures.devNull())), toBe -> {
            try {
                seen.add(Fixtures.settledCmdline(toBe.pid()).get(0)); // still the helper
                seen.add(Boolean.toString(Files.exists(marker)));
                seen.add(Fixtures.statField(toBe.pid(), 22)); // start time: kept across exec
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            assertEquals(argv, toBe.cmdline(), "the identity to be carries the program's argv");
        });
        started.add(id);
        reaper.watch(id, home.resolve("none.sock").toString(), info -> { });
        assertEquals(ExecHelper.NAME, Path.of(seen.get(0)).getFileName().toString());
        assertEquals("false", seen.get(1), "the program had not run yet");
        assertEquals(Long.parseLong(seen.get(2)), id.startTime(), "the recorded identity is the program's");
        assertEquals(argv, id.cmdline());
        assertTrue(spawner.isAlive(id));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!Files.exists(marker) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(Files.exists(marker), "the program ran after beforeExec");
    }

    @Test
    void aFailingBeforeExecMeansTheProgramNeverRuns() throws Exception {
        Path marker = home.resolve("ran");
        long[] pid = new long[1];
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> spawner.spawn(
                Fixtures.request(List.of("/bin/touch", marker.toString()), home, fd(Fixtures.devNull())), toBe -> {
                    pid[0] = toBe.pid();
                    throw new IllegalStateException("disk full");
                }));
        assertEquals("disk full", e.getMessage());
        assertFalse(Files.exists(Path.of("/proc", Long.toString(pid[0]))), "the held helper was killed and reaped");
        assertEquals(List.of(), Fixtures.zombieChildren());
        Thread.sleep(50);
        assertFalse(Files.exists(marker), "the program never ran");
    }

    /**
     * The manager killed while the helper waits: the go pipe hits EOF (its only writer died) and the helper
     * ends without exec, so no lkvm runs that no status file names. A shell plays the dead manager.
     */
    @Test
    void theHelperEndsWithoutExecWhenTheManagerIsGone() throws Exception {
        Path marker = home.resolve("ran");
        Process p = new ProcessBuilder("/bin/sh", "-c", "exec 3>/dev/null 4</dev/null; exec \"$0\" -- /bin/touch \"$1\"",
                Fixtures.helper().toString(), marker.toString()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(125, p.exitValue(), new String(p.getInputStream().readAllBytes()));
        assertFalse(Files.exists(marker), "the program never ran");

        Process go = new ProcessBuilder("/bin/sh", "-c", "printf g | { exec 3>/dev/null 4<&0; exec \"$0\" -- /bin/touch \"$1\"; }",
                Fixtures.helper().toString(), marker.toString()).redirectErrorStream(true).start();
        assertTrue(go.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, go.exitValue(), new String(go.getInputStream().readAllBytes()));
        assertTrue(Files.exists(marker), "with its go byte the same helper runs the program");
    }

    @Test
    void awaitExitWaitsInTheKernelForThatProcess() throws Exception {
        ProcessIdentity id = spawn(Fixtures.request(List.of("/bin/sleep", "30"), home, fd(Fixtures.devNull())));
        assertFalse(spawner.awaitExit(id, java.time.Duration.ofMillis(50)), "a sleeping process has not ended");
        ProcessIdentity other = new ProcessIdentity(id.pid(), id.startTime() + 1, id.cmdline());
        assertTrue(spawner.awaitExit(other, java.time.Duration.ofMillis(50)), "a recycled pid is not the recorded process");
        Thread killer = new Thread(() -> spawner.signal(id, Posix.SIGKILL));
        killer.start();
        assertTrue(spawner.awaitExit(id, java.time.Duration.ofSeconds(10)));
        killer.join();
    }

    @Test
    void aMissingBinaryIsNamed() throws Exception {
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> spawner.spawn(
                Fixtures.request(List.of("/nonexistent/lkvm", "run"), home, fd(Fixtures.devNull()))));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        assertEquals("binary not found: /nonexistent/lkvm", e.getMessage());
        assertEquals(List.of(), Fixtures.zombieChildren(), "the failed helper was reaped");
    }

    @Test
    void aNonExecutableBinaryIsNamed() throws Exception {
        Path notExec = Files.writeString(home.resolve("lkvm"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(notExec, PosixFilePermissions.fromString("rw-r--r--"));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> spawner.spawn(
                Fixtures.request(List.of(notExec.toString(), "run"), home, fd(Fixtures.devNull()))));
        // root bypasses permission bits except that exec needs at least one x bit
        assertEquals("binary is not executable: " + notExec, e.getMessage());
    }

    @Test
    void aMissingKernelIsNamedBeforeExec() throws Exception {
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> spawner.spawn(Fixtures.request(
                List.of("/bin/sleep", "-k", home + "/no-bzImage", "-m", "64"), home, fd(Fixtures.devNull()))));
        assertEquals("kernel " + home + "/no-bzImage: No such file or directory", e.getMessage());
    }

    @Test
    void aBadStdioDescriptorIsAnError() {
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> spawner.spawn(
                Fixtures.request(List.of("/bin/sleep", "1"), home, 987_654)));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        assertTrue(e.getMessage().startsWith("cannot start /bin/sleep"), e.getMessage());
    }

    @Test
    void aRefusedCgroupJoinIsNamed() throws Exception {
        String procs = home.resolve("no-such-group/cgroup.procs").toString();
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> spawner.spawn(new SpawnRequest(
                List.of("/bin/sleep", "1"), home.toString(), fd(Fixtures.devNull()), List.of(procs), -1, -1, List.of())));
        assertEquals("cannot join cgroup " + procs + ": No such file or directory", e.getMessage());
    }

    @Test
    void theChildIsInItsCgroupsFromItsFirstInstruction() throws Exception {
        assumeTrue(Fixtures.isRoot(), "creating cgroups needs root");
        List<String> procsFiles = new ArrayList<>();
        String name = "kvmtool-launch-test-" + ProcessHandle.current().pid();
        for (String hierarchy : List.of("pids", "unified")) { // one v1 controller and the v2 tree, as found here
            Path root = Path.of("/sys/fs/cgroup", hierarchy);
            if (Files.isWritable(root.resolve("cgroup.procs"))) {
                Path group = Files.createDirectories(root.resolve(name));
                cgroups.add(group);
                procsFiles.add(group.resolve("cgroup.procs").toString());
            }
        }
        if (Files.readString(Path.of("/proc/mounts")).contains(" /sys/fs/cgroup cgroup2 ")) {
            Path group = Files.createDirectories(Path.of("/sys/fs/cgroup", name)); // pure v2 host
            cgroups.add(group);
            procsFiles.add(group.resolve("cgroup.procs").toString());
        }
        assumeTrue(!procsFiles.isEmpty(), "no writable cgroup hierarchy here");
        int[] pipe = Fixtures.POSIX.pipe();
        fd(pipe[0]);
        int w = fd(pipe[1]);
        // cat's first read of /proc/self/cgroup shows where the process was when lkvm's code would start
        ProcessIdentity id = spawn(new SpawnRequest(List.of("/bin/cat", "/proc/self/cgroup"), home.toString(), w,
                procsFiles, -1, -1, List.of()));
        Fixtures.POSIX.close(w);
        fds.remove((Integer) w);
        String out = Fixtures.drain(pipe[0]);
        assertTrue(Fixtures.awaitGone(id.pid()));
        for (String procs : procsFiles) {
            Path group = Path.of(procs).getParent();
            String hierarchyRoot = group.getParent().toString();
            String controller = hierarchyRoot.endsWith("unified") || hierarchyRoot.equals("/sys/fs/cgroup") ? "" : "pids";
            assertTrue(out.lines().anyMatch(l -> l.matches("\\d+:" + controller + ":/" + name)),
                    "in " + group + ":\n" + out);
        }
    }

    @Test
    void systemModeRunsUnprivileged() throws Exception {
        assumeTrue(Fixtures.isRoot(), "switching users needs root");
        int nobody = 65534;
        Files.setAttribute(home, "unix:uid", nobody);
        Files.setAttribute(home, "unix:gid", nobody);
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
        Fixtures.letOthersSearch(home.getParent());
        ProcessIdentity id = spawn(new SpawnRequest(List.of("/bin/sleep", "30"), home.toString(),
                fd(Fixtures.devNull()), List.of(), nobody, nobody, List.of(nobody + 1)));

        assertEquals("65534\t65534\t65534\t65534", Fixtures.statusField(id.pid(), "Uid"));
        assertEquals("65534\t65534\t65534\t65534", Fixtures.statusField(id.pid(), "Gid"));
        assertEquals("65535", Fixtures.statusField(id.pid(), "Groups"), "root's groups are gone");
        assertEquals("0000000000000000", Fixtures.statusField(id.pid(), "CapEff"));
    }

    @Test
    void anUnprivilegedUserWhoCannotReadTheKernelIsTold() throws Exception {
        assumeTrue(Fixtures.isRoot(), "switching users needs root");
        Files.setAttribute(home, "unix:uid", 65534);
        Fixtures.letOthersSearch(home.getParent());
        Path kernel = Files.writeString(home.resolve("bzImage"), "x");
        Files.setAttribute(kernel, "unix:uid", 0);
        Files.setPosixFilePermissions(kernel, PosixFilePermissions.fromString("rw-------"));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> spawner.spawn(new SpawnRequest(
                List.of("/bin/sleep", "-k", kernel.toString()), home.toString(), fd(Fixtures.devNull()),
                List.of(), 65534, 65534, List.of())));
        assertEquals("kernel " + kernel + ": Permission denied (for uid 65534)", e.getMessage());
    }
}
