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
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.CgroupRef;
import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * The v2 backend on the real kernel where the host is hybrid (this machine: an empty cgroup2 at
 * /sys/fs/cgroup/unified beside the v1 controllers). The service is shown only the cgroup2 mount of the real
 * mountinfo, so it sees a unified host: CPU time from cpu.stat (core accounting), no cpu or memory controller.
 * On a pure v2 host {@link RealHostTest} covers v2 already and this test is skipped.
 */
class RealUnifiedTest {
    private final String parent = RealProcesses.uniqueParent();
    private Path root;
    private CgroupServiceImpl service;
    private Process process;
    private String restoreRoot;

    @BeforeEach
    void unifiedBesideV1(@TempDir Path tmp) throws IOException {
        assumeTrue(RealProcesses.root(), "needs root to create cgroups on the real hierarchy (CI runs as root)");
        HostLayout real = LayoutDetector.detect(HostPaths.system());
        assumeTrue(real.layout().equals("hybrid"), "the host is " + real.layout() + ", not hybrid");
        List<String> v2Lines = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(l -> l.contains(" - cgroup2 ")).toList();
        assumeTrue(!v2Lines.isEmpty(), "no cgroup2 mount");
        Files.writeString(tmp.resolve("mountinfo"), String.join("\n", v2Lines) + "\n");
        service = new CgroupServiceImpl(new HostPaths(tmp.resolve("mountinfo"), Path.of("/proc/self/cgroup"),
                Path.of(HostPaths.SYS_FS_CGROUP), Path.of("/proc")), Duration.ofMillis(300));
        assumeTrue(service.support().usable(), service.support().reason());
        root = service.layout().byController().get("cpuacct").dir();
    }

    @AfterEach
    void cleanUp() throws IOException {
        RealProcesses.kill(process);
        if (root != null) {
            RealProcesses.removeTree(root.resolve(parent));
            assertFalse(Files.exists(root.resolve(parent)));
            if (restoreRoot != null) {
                CgroupFs.write(root.resolve("cgroup.subtree_control"), restoreRoot);
            }
        }
    }

    @Test
    void cpuTimeFromCpuStatAndTheMissingControllersNamed() throws Exception {
        assertEquals("unified", service.support().layout());
        System.out.println("unified beside v1: " + service.support());
        CgroupRef ref = service.create(parent, "v2");
        assertEquals(List.of(root.resolve(parent).resolve("v2.kvmtool").toString()), ref.dirs());
        assertTrue(ref.unified());

        process = RealProcesses.joinedThenExec(service.procsFiles(ref), "dd if=/dev/zero of=/dev/null bs=64k");
        long pid = process.pid();
        RealHostTest.waitUntil(() -> CgroupFs.read(Path.of("/proc/" + pid + "/cgroup"))
                .contains("0::/" + parent + "/v2.kvmtool\n"), "the process in the v2 group");
        Thread.sleep(300);
        CgroupStats first = service.stats(ref, pid);
        Thread.sleep(500);
        CgroupStats second = service.stats(ref, pid);
        System.out.println("dd in a v2 group: " + first + " then " + second);
        assertTrue(first.cpuTimeNanos() > 0 && second.cpuTimeNanos() > first.cpuTimeNanos(), second.toString());
        assertEquals(0, second.cpuTimeNanos() % 1000, "usage_usec * 1000");

        if (!service.support().controllers().containsKey("memory")) {
            assertEquals(-1, second.memoryUsageBytes());
            KvmtoolException missing = assertThrows(KvmtoolException.class, () -> service.setMemoryLimit(ref, 1 << 30));
            assertEquals(ErrorCode.SYSTEM_ERROR, missing.code());
            assertEquals("cgroup controller 'memory' is missing on this host (layout unified)", missing.getMessage());
        }

        KvmtoolException busy = assertThrows(KvmtoolException.class, () -> service.remove(ref));
        // each pid with its name and state (or "gone" where this test's /proc does not show it)
        assertTrue(busy.getMessage().startsWith("cannot remove cgroup " + ref.dirs().get(0)
                + ": Device or resource busy (processes still in it: " + pid + " ("), busy.getMessage());
        RealProcesses.kill(process);
        service.remove(ref);
        assertFalse(Files.exists(Path.of(ref.dirs().get(0))));
    }

    /** The real kernel's cgroup.subtree_control, with a controller nobody here uses (hugetlb, rdma, misc). */
    @Test
    void prepareParentEnablesAControllerDownToTheParent() {
        Set<String> enabled = V2Backend.words(CgroupFs.read(root.resolve("cgroup.subtree_control")));
        String spare = V2Backend.words(CgroupFs.read(root.resolve("cgroup.controllers"))).stream()
                .filter(c -> Set.of("hugetlb", "rdma", "misc").contains(c) && !enabled.contains(c))
                .sorted().findFirst().orElse(null);
        assumeTrue(spare != null, "no unused spare controller in " + root.resolve("cgroup.controllers"));
        restoreRoot = "-" + spare;

        Path dir = new V2Backend().prepareParent(root, List.of(parent, "sub"), Set.of(spare));
        assertEquals(root.resolve(parent).resolve("sub"), dir);
        assertTrue(V2Backend.words(CgroupFs.read(root.resolve("cgroup.subtree_control"))).contains(spare));
        assertTrue(V2Backend.words(CgroupFs.read(root.resolve(parent).resolve("cgroup.subtree_control"))).contains(spare));
        assertTrue(V2Backend.words(CgroupFs.read(dir.resolve("cgroup.subtree_control"))).contains(spare));
        Path group = dir.resolve("g");
        CgroupFs.mkdir(group);
        assertEquals(Set.of(spare), V2Backend.words(CgroupFs.read(group.resolve("cgroup.controllers"))),
                "the group below gets it, and only it");
        // idempotent: a second pass writes nothing new and fails on nothing
        new V2Backend().prepareParent(root, List.of(parent, "sub"), Set.of(spare));
        System.out.println("enabled +" + spare + " down to " + dir + "; the group below shows "
                + Set.of(group.toFile().list()).stream().filter(f -> f.startsWith(spare)).sorted().toList());
    }
}
