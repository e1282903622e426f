package org.kvmtool.manager.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.CgroupRef;
import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * The service on this machine's real hierarchy (whatever its layout: hybrid here, pure v2 on most hosts), with
 * real processes. Needs root; every group lives under a unique parent that is removed afterwards.
 */
class RealHostTest {
    private static final String PARENT = RealProcesses.uniqueParent();
    private static CgroupServiceImpl service;
    private final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void realHost() {
        assumeTrue(RealProcesses.root(), "needs root to create cgroups on the real hierarchy (CI runs as root)");
        service = new CgroupServiceImpl(HostPaths.system(), Duration.ofSeconds(5));
        assumeTrue(service.support().usable(), "no usable cgroups on this host: " + service.support().reason());
    }

    @AfterEach
    void killProcesses() {
        processes.forEach(RealProcesses::kill);
    }

    @AfterAll
    static void removeParent() throws IOException {
        if (service != null) {
            for (Hierarchy h : service.layout().used()) {
                RealProcesses.removeTree(h.base().resolve(PARENT));
                assertFalse(Files.exists(h.base().resolve(PARENT)));
            }
        }
    }

    private Process track(Process p) {
        processes.add(p);
        return p;
    }

    private static boolean v2(String controller) {
        return service.layout().byController().get(controller).backend().version().equals("v2");
    }

    private static Path dirOf(CgroupRef ref, String controller) {
        Hierarchy h = service.layout().byController().get(controller);
        return ref.dirs().stream().map(Path::of).filter(d -> service.layout().holding(d) == h).findFirst().orElseThrow();
    }

    @Test
    void aProcessThatJoinedBeforeExecIsAccountedAndTheGroupGoesAway() throws Exception {
        System.out.println("layout " + service.support());
        CgroupRef ref = service.create(PARENT, "burn");
        ref.dirs().forEach(d -> assertTrue(Files.isDirectory(Path.of(d)), d));
        assertEquals(ref, service.create(PARENT, "burn"), "idempotent");
        assertEquals(Optional.of(ref), service.find(PARENT, "burn"));

        // burns CPU copying zeros into a 16 MiB buffer it keeps touching
        Process dd = track(RealProcesses.joinedThenExec(service.procsFiles(ref),
                "dd if=/dev/zero of=/dev/null bs=16M"));
        long pid = dd.pid();
        for (String d : ref.dirs()) {
            waitUntil(() -> RealProcesses.lines(Path.of(d).resolve("cgroup.procs")).contains(pid), "pid in " + d);
        }
        Thread.sleep(300);
        CgroupStats first = service.stats(ref, pid);
        Thread.sleep(700);
        CgroupStats second = service.stats(ref, pid);
        System.out.println("dd in a cgroup: " + first + " then " + second);
        assertEquals(CgroupStats.Source.CGROUP, second.source());
        assertTrue(first.cpuTimeNanos() > 0, first.toString());
        assertTrue(second.cpuTimeNanos() > first.cpuTimeNanos(), "CPU time grows: " + first + " " + second);
        assertTrue(second.memoryUsageBytes() >= 8L << 20, "dd's 16 MiB buffer is charged: " + second);
        assertEquals(-1, second.memoryLimitBytes(), "no limit set yet");
        assertEquals(List.of(), second.vcpuTimesNanos(), "dd has no vCPU threads");
        CgroupStats proc = service.stats(null, pid);
        assertEquals(CgroupStats.Source.PROC, proc.source());
        assertTrue(proc.cpuTimeNanos() > 0 && proc.memoryUsageBytes() >= 8L << 20, proc.toString());

        service.setCpuShares(ref, 512);
        long expected = v2("cpu") ? CpuWeight.toShares(CpuWeight.toWeight(512)) : 512;
        assertEquals(expected, service.stats(ref, pid).cpuShares());
        assertEquals(v2("cpu") ? Long.toString(CpuWeight.toWeight(512)) : "512",
                Files.readString(dirOf(ref, "cpu").resolve(v2("cpu") ? "cpu.weight" : "cpu.shares")).trim());

        // busy: the kernel refuses while dd is in it; a bounded wait, then an error naming dir, errno and pid
        CgroupServiceImpl impatient = new CgroupServiceImpl(HostPaths.system(), Duration.ofMillis(200));
        long start = System.nanoTime();
        KvmtoolException busy = assertThrows(KvmtoolException.class, () -> impatient.remove(ref));
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3), "bounded wait");
        assertEquals(ErrorCode.SYSTEM_ERROR, busy.code());
        assertTrue(busy.getMessage().startsWith("cannot remove cgroup " + ref.dirs().get(0)
                + ": Device or resource busy (processes still in it: " + pid + " (dd) "), busy.getMessage());
        ref.dirs().forEach(d -> assertTrue(Files.isDirectory(Path.of(d)), "still there: " + d));

        RealProcesses.kill(dd);
        service.remove(ref);
        ref.dirs().forEach(d -> assertFalse(Files.exists(Path.of(d)), "removed: " + d));
        service.remove(ref);
        assertEquals(Optional.empty(), service.find(PARENT, "burn"));
    }

    @Test
    void attachMovesEveryThreadAndVcpuTimesComeFromTheVcpuThreads() throws Exception {
        CgroupRef ref = service.create(PARENT, "vcpus");
        Process burner = track(RealProcesses.vcpuBurner(2, 24));
        long pid = burner.pid();
        service.attach(ref, pid);
        List<Long> tids;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            tids = tasks.map(p -> Long.parseLong(p.getFileName().toString())).toList();
        }
        for (String d : ref.dirs()) {
            Path dir = Path.of(d);
            assertEquals(List.of(pid), RealProcesses.lines(dir.resolve("cgroup.procs")));
            List<Long> threads = RealProcesses.lines(dir.resolve(Files.exists(dir.resolve("tasks")) ? "tasks" : "cgroup.threads"));
            assertTrue(threads.containsAll(tids), "all " + tids.size() + " threads moved to " + d + ": " + threads);
        }
        CgroupStats first = service.stats(ref, pid);
        Thread.sleep(1000);
        CgroupStats second = service.stats(ref, pid);
        System.out.println("vCPU burner: " + first + " then " + second);
        assertEquals(2, second.vcpuTimesNanos().size(), second.toString());
        assertTrue(second.vcpuTimesNanos().stream().allMatch(t -> t > 0), second.toString());
        assertTrue(second.vcpuTimesNanos().get(0) + second.vcpuTimesNanos().get(1)
                > first.vcpuTimesNanos().get(0) + first.vcpuTimesNanos().get(1), "vCPU time grows");
        assertTrue(second.cpuTimeNanos() >= second.vcpuTimesNanos().get(0), "the group holds the vCPU threads");
        // memory charged before the move stays with the old group (v2 never moves charges, v1 only with the
        // deprecated move_charge_at_immigrate): why lkvm joins through procsFiles before exec. New pages count.
        RealProcesses.touch(burner, 24);
        CgroupStats touched = service.stats(ref, pid);
        assertTrue(touched.memoryUsageBytes() >= second.memoryUsageBytes() + (20L << 20),
                "24 MiB touched after the move: " + second + " then " + touched);

        KvmtoolException gone = assertThrows(KvmtoolException.class, () -> service.attach(ref, deadPid()));
        assertEquals(ErrorCode.SYSTEM_ERROR, gone.code(), gone.getMessage());
        assertTrue(gone.getMessage().endsWith("cgroup.procs: No such process"), gone.getMessage());

        RealProcesses.kill(burner);
        service.remove(ref);
        ref.dirs().forEach(d -> assertFalse(Files.exists(Path.of(d)), "removed: " + d));
    }

    @Test
    void aMemoryLimitIsEnforcedOnARealProcess() throws Exception {
        CgroupRef ref = service.create(PARENT, "oom");
        service.setMemoryLimit(ref, 32L << 20);
        assertEquals(32L << 20, service.stats(ref, 0).memoryLimitBytes());

        // dd allocates and fills a 128 MiB buffer: four times the limit
        Process dd = track(RealProcesses.joinedThenExec(service.procsFiles(ref),
                "dd if=/dev/zero of=/dev/null bs=128M count=1"));
        assertTrue(dd.waitFor(60, TimeUnit.SECONDS), "dd ended");
        Path memory = dirOf(ref, "memory");
        long hits = v2("memory")
                ? CgroupFs.keyed(CgroupFs.read(memory.resolve("memory.events")), "max", -1)
                : CgroupFs.readLong(memory.resolve("memory.failcnt"));
        System.out.println("dd past a 32 MiB limit: exit " + dd.exitValue() + ", limit hit " + hits + " times");
        assertTrue(hits > 0, "the limit was hit");
        if (noSwap()) {
            assertEquals(128 + 9, dd.exitValue(), "killed by the OOM killer (SIGKILL)");
            long kills = v2("memory")
                    ? CgroupFs.keyed(CgroupFs.read(memory.resolve("memory.events")), "oom_kill", -1)
                    : CgroupFs.keyed(CgroupFs.read(memory.resolve("memory.oom_control")), "oom_kill", -1);
            assertTrue(kills >= 1, "oom_kill counted");
        }
        service.setMemoryLimit(ref, -1);
        assertEquals(-1, service.stats(ref, 0).memoryLimitBytes());
        service.remove(ref);
        ref.dirs().forEach(d -> assertFalse(Files.exists(Path.of(d)), "removed: " + d));
    }

    private static boolean noSwap() throws IOException {
        return Files.readAllLines(Path.of("/proc/swaps")).size() <= 1;
    }

    private static long deadPid() throws IOException {
        long pid = CgroupFs.readLong(Path.of("/proc/sys/kernel/pid_max")) - 1;
        while (Files.exists(Path.of("/proc/" + pid))) {
            pid--;
        }
        return pid;
    }

    static void waitUntil(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }
}
