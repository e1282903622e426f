package org.kvmtool.manager.launch;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ExitInfo;
import org.kvmtool.manager.api.ProcessIdentity;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Harness, not a test: prints figures. Run with
 * {@code mvn -B -q -o -pl bundles/launch -am verify -Dgroups=bench -Dtest=LaunchBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 * (add {@code -Dbench.runs=N}; default 200). The process is this module's ipc-answerer, which
 * speaks kvmtool's IPC, or {@code -Dbench.binary=PATH} with the same command-line contract.
 *
 * <ol>
 * <li>spawn -> IPC answering: our spawner (posix_spawn of kvmtool-exec, which execs the binary) plus
 *     awaitReady, against a bare posix_spawn of the same binary with the same argv, environment and
 *     descriptors plus the same awaitReady; runs alternate so drift hits both.</li>
 * <li>process end -> listener: the process writes CLOCK_MONOTONIC (System.nanoTime's clock) right
 *     before _exit; the watcher's wake time and the listener's call time are compared with it. A
 *     second series kills with SIGKILL, timed from just before the kill.</li>
 * </ol>
 */
@Tag("bench")
class LaunchBenchmark {
    @TempDir
    Path home;

    @Test
    void run() throws Exception {
        int runs = Integer.getInteger("bench.runs", 200);
        Path binary = Path.of(System.getProperty("bench.binary",
                System.getProperty("launch.test.answerer", "target/test-bin/ipc-answerer")));
        PosixProcessSpawner spawner = Fixtures.spawner();
        SocketLkvmControl control = new SocketLkvmControl(Path.of("/proc"), Duration.ofSeconds(2),
                Duration.ofMillis(10), Duration.ofSeconds(5));
        Posix posix = Fixtures.POSIX;
        int devNull = Fixtures.devNull();
        ProcFs proc = new ProcFs(Path.of("/proc"));
        List<String> env = List.of("HOME=" + home, PosixProcessSpawner.PATH);

        try (PidfdExitWatcher watcher = new PidfdExitWatcher()) {
            int warmup = 20;
            long[] ours = new long[runs];
            long[] bare = new long[runs];
            long[] oursSpawn = new long[runs];
            long[] bareSpawn = new long[runs];
            for (int i = -warmup; i < runs; i++) {
                for (boolean viaHelper : new boolean[] {i % 2 == 0, i % 2 != 0}) {
                    String name = "b" + (i + warmup) + (viaHelper ? "h" : "p");
                    List<String> argv = List.of(binary.toString(), "--name", name);
                    String socket = home + "/.lkvm/" + name + ".sock";
                    long t0 = System.nanoTime();
                    ProcessIdentity id;
                    if (viaHelper) {
                        id = spawner.spawn(Fixtures.request(argv, home, devNull));
                    } else {
                        int pid = posix.spawn(binary.toString(), argv, env, devNull, devNull, devNull);
                        // the same wait for the settled argv as the spawner's (see settledIdentity)
                        ProcFs.Snapshot s = proc.read(pid).orElseThrow();
                        while (s.cmdline().isEmpty()) {
                            s = proc.read(pid).orElseThrow();
                        }
                        id = new ProcessIdentity(pid, s.startTime(), s.cmdline());
                    }
                    long t1 = System.nanoTime();
                    control.awaitReady(socket, id, Duration.ofSeconds(5));
                    long t2 = System.nanoTime();
                    CompletableFuture<ExitInfo> done = new CompletableFuture<>();
                    watcher.watch(id, socket, done::complete);
                    control.stop(socket);
                    done.get(5, TimeUnit.SECONDS);
                    if (i >= 0) {
                        (viaHelper ? ours : bare)[i] = t2 - t0;
                        (viaHelper ? oursSpawn : bareSpawn)[i] = t1 - t0;
                    }
                }
            }
            System.out.println("== spawn -> IPC answering, " + runs + " runs each (ms)");
            print("kvmtool-exec + awaitReady", ours);
            print("bare posix_spawn + awaitReady", bare);
            print("spawn() returned (exec done), ours", oursSpawn);
            print("posix_spawn returned, bare", bareSpawn);
            long[] diff = new long[runs];
            for (int i = 0; i < runs; i++) {
                diff[i] = ours[i] - bare[i];
            }
            print("overhead (ours - bare, paired)", diff);
            System.out.printf(Locale.ROOT, "overhead of medians: %.3f ms%n",
                    (pct(ours, 50) - pct(bare, 50)) / 1e6);

            long[] wake = new long[runs];
            long[] called = new long[runs];
            long[] killCalled = new long[runs];
            for (int i = -warmup; i < runs; i++) {
                int[] pipe = posix.pipe();
                String name = "e" + (i + warmup);
                String socket = home + "/.lkvm/" + name + ".sock";
                ProcessIdentity id = spawner.spawn(Fixtures.request(
                        List.of(binary.toString(), "--name", name), home, pipe[1]));
                posix.close(pipe[1]);
                control.awaitReady(socket, id, Duration.ofSeconds(5));
                CompletableFuture<Long> listenerAt = new CompletableFuture<>();
                CompletableFuture<ExitInfo> info = new CompletableFuture<>();
                watcher.watch(id, socket, x -> {
                    listenerAt.complete(System.nanoTime());
                    info.complete(x);
                });
                control.stop(socket);
                String out = Fixtures.drain(pipe[0]).strip();
                posix.close(pipe[0]);
                long exitedAt = Long.parseLong(out.substring(out.indexOf("EXIT ") + 5).strip());
                long at = listenerAt.get(5, TimeUnit.SECONDS);
                if (i >= 0) {
                    wake[i] = info.get().nanoTime() - exitedAt;
                    called[i] = at - exitedAt;
                }

                String kname = "k" + (i + warmup);
                String ksocket = home + "/.lkvm/" + kname + ".sock";
                ProcessIdentity kid = spawner.spawn(Fixtures.request(
                        List.of(binary.toString(), "--name", kname), home, devNull));
                control.awaitReady(ksocket, kid, Duration.ofSeconds(5));
                CompletableFuture<Long> kAt = new CompletableFuture<>();
                watcher.watch(kid, ksocket, x -> kAt.complete(System.nanoTime()));
                long killedAt = System.nanoTime();
                posix.kill((int) kid.pid(), Posix.SIGKILL);
                long k = kAt.get(5, TimeUnit.SECONDS);
                if (i >= 0) {
                    killCalled[i] = k - killedAt;
                }
            }
            System.out.println("== process end -> listener, " + runs + " runs (ms)");
            print("exit -> watcher woken (ExitInfo.nanoTime)", wake);
            print("exit -> listener called", called);
            print("SIGKILL sent -> listener called", killCalled);
        } finally {
            posix.close(devNull);
        }
    }

    private static double pct(long[] values, int p) {
        long[] s = values.clone();
        Arrays.sort(s);
        int idx = (int) Math.ceil(p / 100.0 * s.length) - 1;
        return s[Math.max(0, Math.min(s.length - 1, idx))];
    }

    private static void print(String what, long[] nanos) {
        System.out.printf(Locale.ROOT, "%-44s p50 %7.3f  p99 %7.3f  max %7.3f  mean %7.3f%n", what,
                pct(nanos, 50) / 1e6, pct(nanos, 99) / 1e6, Arrays.stream(nanos).max().orElse(0) / 1e6,
                Arrays.stream(nanos).average().orElse(0) / 1e6);
    }
}
