package org.kvmtool.manager.cgroups;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.kvmtool.manager.cgroups.FixtureHost.file;
import static org.kvmtool.manager.cgroups.FixtureHost.read;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.CgroupRef;
import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.CgroupSupport;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Detection and group placement on fixture trees of every host layout (pure v1, hybrid, unified, systemd,
 * none, containers), in the style of libvirt's vircgroupdata. The kernel's side of a new group (its control
 * files) is written by the test where a case reads or writes them.
 */
class FixtureLayoutTest {
    private static final String V2_ALL = "cpuset cpu io memory hugetlb pids rdma misc";
    @TempDir
    Path tmp;

    private static CgroupServiceImpl service(FixtureHost host) {
        return new CgroupServiceImpl(host.paths(), Duration.ofMillis(100));
    }

    private static KvmtoolException fails(ErrorCode code, org.junit.jupiter.api.function.Executable call) {
        KvmtoolException e = assertThrows(KvmtoolException.class, call);
        assertEquals(code, e.code(), e.getMessage());
        return e;
    }

    @Test
    void pureV1WithComountedCpuAndCpuacct() {
        FixtureHost host = new FixtureHost(tmp, "legacy", "", true);
        CgroupServiceImpl service = service(host);
        CgroupSupport support = service.support();
        assertEquals("legacy", support.layout());
        assertEquals(Map.of("cpu", "v1:" + host.dir("cpu,cpuacct"), "cpuacct", "v1:" + host.dir("cpu,cpuacct"),
                "memory", "v1:" + host.dir("memory")), support.controllers());
        assertTrue(support.usable(), support.reason());
        assertEquals("", support.reason());
        assertFalse(service.layout().systemd());
        assertFalse(service.layout().container());

        CgroupRef ref = service.create("machine", "vm1");
        assertEquals(new CgroupRef("vm1.kvmtool", List.of(host.dir("cpu,cpuacct/machine/vm1.kvmtool").toString(),
                host.dir("memory/machine/vm1.kvmtool").toString()), false), ref);
        ref.dirs().forEach(d -> assertTrue(Files.isDirectory(Path.of(d)), d));
        assertEquals(ref, service.create("machine", "vm1"), "create is idempotent");
        assertEquals(Optional.of(ref), service.find("machine", "vm1"));
        assertEquals(Optional.empty(), service.find("machine", "vm2"));
        // a removal cut short (crash between two rmdirs) leaves a partial group: found, so it can be removed
        CgroupRef half = service.create("machine", "half");
        Path memoryHalf = Path.of(half.dirs().get(1));
        assertTrue(memoryHalf.toString().contains("memory"), memoryHalf.toString());
        assertDoesNotThrow(() -> Files.delete(memoryHalf));
        CgroupRef found = service.find("machine", "half").orElseThrow();
        assertEquals(List.of(half.dirs().get(0)), found.dirs());
        service.remove(found);
        assertEquals(Optional.empty(), service.find("machine", "half"));
        assertEquals(List.of(host.dir("cpu,cpuacct/machine/vm1.kvmtool/cgroup.procs").toString(),
                host.dir("memory/machine/vm1.kvmtool/cgroup.procs").toString()), service.procsFiles(ref));

        // the kernel's files of the new group, with figures
        Path cpu = host.dir("cpu,cpuacct/machine/vm1.kvmtool");
        Path mem = host.dir("memory/machine/vm1.kvmtool");
        FixtureHost.v1Group(cpu, "cpu", "cpuacct");
        FixtureHost.v1Group(mem, "memory");
        file(cpu.resolve("cpuacct.usage"), "123456789\n");
        file(mem.resolve("memory.usage_in_bytes"), "10485760\n");
        file(mem.resolve("memory.stat"), "cache 4096\nrss 1\ntotal_cache 2097152\ntotal_rss 8388608\n");
        CgroupStats stats = service.stats(ref, 0);
        assertEquals(new CgroupStats(123456789, 8388608, -1, 1024, List.of(), CgroupStats.Source.CGROUP), stats);

        service.setCpuShares(ref, 2048);
        assertEquals("2048", read(cpu.resolve("cpu.shares")));
        service.setMemoryLimit(ref, 256L << 20);
        assertEquals("268435456", read(mem.resolve("memory.limit_in_bytes")));
        assertEquals(256L << 20, service.stats(ref, 0).memoryLimitBytes());
        service.setMemoryLimit(ref, -1);
        assertEquals("-1", read(mem.resolve("memory.limit_in_bytes")));
    }

    @Test
    void hybridLikeThisMachinePutsEveryControllerOnItsV1Hierarchy() {
        FixtureHost host = new FixtureHost(tmp, "hybrid", "hugetlb", true);
        CgroupServiceImpl service = service(host);
        CgroupSupport support = service.support();
        assertEquals("hybrid", support.layout());
        assertEquals(Map.of("cpu", "v1:" + host.dir("cpu"), "cpuacct", "v1:" + host.dir("cpuacct"),
                "memory", "v1:" + host.dir("memory")), support.controllers());
        assertTrue(support.usable(), support.reason());
        assertFalse(service.layout().systemd(), "a name=systemd hierarchy without init.scope is not systemd");
        assertEquals(host.dir("memory/process_api/a165bf4f"),
                service.layout().byController().get("memory").ownDir());

        CgroupRef ref = service.create("machine", "vm1");
        assertEquals(List.of(host.dir("cpu/machine/vm1.kvmtool").toString(),
                host.dir("cpuacct/machine/vm1.kvmtool").toString(),
                host.dir("memory/machine/vm1.kvmtool").toString()), ref.dirs());
        assertFalse(ref.unified());
        service.remove(ref);
        ref.dirs().forEach(d -> assertFalse(Files.exists(Path.of(d)), d));
        assertTrue(Files.isDirectory(host.dir("memory/machine")), "the shared parent stays");
        service.remove(ref); // idempotent
    }

    @Test
    void hybridChoosesPerControllerV2First() {
        FixtureHost host = new FixtureHost(tmp, "hybrid-cpu-v2", "cpu", true);
        FixtureHost.v2Group(host.dir("unified/machine"), "cpu", true);
        CgroupServiceImpl service = service(host);
        assertEquals("hybrid", service.support().layout());
        assertEquals(Map.of("cpu", "v2:" + host.dir("unified"), "cpuacct", "v2:" + host.dir("unified"),
                "memory", "v1:" + host.dir("memory")), service.support().controllers());

        CgroupRef ref = service.create("machine", "vm1");
        assertEquals(List.of(host.dir("unified/machine/vm1.kvmtool").toString(),
                host.dir("memory/machine/vm1.kvmtool").toString()), ref.dirs());
        assertFalse(ref.unified(), "two hierarchies");
        assertEquals("+cpu", read(host.dir("unified/cgroup.subtree_control")), "cpu enabled at the root");
        assertEquals("+cpu", read(host.dir("unified/machine/cgroup.subtree_control")), "and in the parent");

        Path v2 = host.dir("unified/machine/vm1.kvmtool");
        FixtureHost.v2Group(v2, "cpu", true);
        FixtureHost.v1Group(host.dir("memory/machine/vm1.kvmtool"), "memory");
        file(v2.resolve("cpu.stat"), "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
        CgroupStats stats = service.stats(ref, 0);
        assertEquals(1_500_000, stats.cpuTimeNanos());
        assertEquals(-1, stats.memoryLimitBytes());
        service.setCpuShares(ref, 1024);
        assertEquals("100", read(v2.resolve("cpu.weight")));
        assertEquals(1024, service.stats(ref, 0).cpuShares());
    }

    @Test
    void aFailingHierarchyLeavesNoHalfMadeGroup() {
        FixtureHost host = new FixtureHost(tmp, "hybrid-cpu-v2", "cpu", true);
        FixtureHost.v2Group(host.dir("unified/machine"), "cpu", true);
        file(host.dir("memory/machine"), "not a directory");
        CgroupServiceImpl service = service(host);
        KvmtoolException e = fails(ErrorCode.SYSTEM_ERROR, () -> service.create("machine", "vm1"));
        assertEquals("cannot create cgroup " + host.dir("memory/machine") + ": File exists", e.getMessage());
        assertFalse(Files.exists(host.dir("unified/machine/vm1.kvmtool")), "the v2 half was rolled back");
    }

    @Test
    void unifiedWithoutSystemdEnablesControllersDownTheParent() {
        FixtureHost host = new FixtureHost(tmp, "unified", V2_ALL, true);
        FixtureHost.v2Group(host.dir("machine"), V2_ALL, true);
        CgroupServiceImpl service = service(host);
        CgroupSupport support = service.support();
        assertEquals("unified", support.layout());
        String v2 = "v2:" + host.cgroup;
        assertEquals(Map.of("cpu", v2, "cpuacct", v2, "memory", v2), support.controllers());
        assertTrue(support.usable(), support.reason());
        assertFalse(service.layout().systemd());

        CgroupRef ref = service.create("machine", "vm1");
        assertEquals(new CgroupRef("vm1.kvmtool", List.of(host.dir("machine/vm1.kvmtool").toString()), true), ref);
        assertEquals("+cpu +memory", read(host.dir("cgroup.subtree_control")));
        assertEquals("+cpu +memory", read(host.dir("machine/cgroup.subtree_control")));
        assertEquals(List.of(host.dir("machine/vm1.kvmtool/cgroup.procs").toString()), service.procsFiles(ref));
    }

    @Test
    void systemdPutsAScopeLikeGroupUnderMachineSlice() {
        FixtureHost host = new FixtureHost(tmp, "systemd", V2_ALL, true);
        file(host.dir("cgroup.subtree_control"), "cpuset cpu io memory pids\n");
        FixtureHost.v2Group(host.dir("init.scope"), "cpuset cpu io memory pids", true);
        FixtureHost.v2Group(host.dir("system.slice/kvmtool-manager.service"), "cpuset cpu io memory pids", true);
        FixtureHost.v2Group(host.dir("machine.slice"), "cpuset cpu io memory pids", true);
        CgroupServiceImpl service = service(host);
        assertTrue(service.layout().systemd());
        assertEquals("unified", service.support().layout());
        assertTrue(service.support().usable(), service.support().reason());

        CgroupRef ref = service.create("machine", "my-vm");
        Path group = host.dir("machine.slice/machine-my\\x2dvm.kvmtool.scope");
        assertEquals(new CgroupRef("machine-my\\x2dvm.kvmtool.scope", List.of(group.toString()), true), ref);
        assertTrue(Files.isDirectory(group));
        assertEquals("cpuset cpu io memory pids\n", read(host.dir("cgroup.subtree_control")), "already enabled: untouched");
        assertEquals("+cpu +memory", read(host.dir("machine.slice/cgroup.subtree_control")));
        assertEquals(Optional.of(ref), service.find("machine", "my-vm"));

        // a parent of the operator's choosing: a slice gets a scope-like name, a plain path the libvirt one
        FixtureHost.v2Group(host.dir("kvm.slice"), "cpu memory", true);
        assertEquals("machine-vm1.kvmtool.scope", service.create("kvm.slice", "vm1").name());
        FixtureHost.v2Group(host.dir("custom"), "cpu memory", true);
        assertEquals(List.of(host.dir("custom/vm1.kvmtool").toString()), service.create("custom", "vm1").dirs());

        // the v2 figures and settings
        FixtureHost.v2Group(group, "cpu memory", true);
        file(group.resolve("cpu.stat"), "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
        file(group.resolve("memory.current"), "52428800\n");
        assertEquals(new CgroupStats(2_500_000_000L, 52428800, -1, CpuWeight.toShares(100), List.of(),
                CgroupStats.Source.CGROUP), service.stats(ref, 0));
        service.setMemoryLimit(ref, 1L << 30);
        assertEquals("1073741824", read(group.resolve("memory.max")));
        assertEquals(1L << 30, service.stats(ref, 0).memoryLimitBytes());
        service.setMemoryLimit(ref, -1);
        assertEquals("max", read(group.resolve("memory.max")));
        service.setCpuShares(ref, 262_144);
        assertEquals("10000", read(group.resolve("cpu.weight")));
        assertEquals(102_400, service.stats(ref, 0).cpuShares(), "weight 10000 reads back as the smallest shares that give it");
    }

    @Test
    void noCgroupsAtAllFallsBackToProcFiguresOfALiveProcess() {
        FixtureHost host = new FixtureHost(tmp, "none", "", true);
        CgroupServiceImpl service = service(host);
        CgroupSupport support = service.support();
        assertEquals("none", support.layout());
        assertEquals(Map.of(), support.controllers());
        assertFalse(support.usable());
        assertTrue(support.reason().startsWith("no cgroup filesystem is mounted"), support.reason());
        KvmtoolException e = fails(ErrorCode.NO_SUPPORT, () -> service.create("machine", "vm1"));
        assertTrue(e.getMessage().contains("no cgroup filesystem is mounted"), e.getMessage());
        assertEquals(Optional.empty(), service.find("machine", "vm1"));

        long self = ProcessHandle.current().pid();
        CgroupStats stats = service.stats(null, self);
        assertEquals(CgroupStats.Source.PROC, stats.source());
        assertTrue(stats.cpuTimeNanos() > 0, "this JVM has run: " + stats);
        assertTrue(stats.memoryUsageBytes() > 1 << 20, "this JVM's RSS: " + stats);
        assertEquals(-1, stats.memoryLimitBytes());
    }

    @Test
    void unreadableMountinfoMeansNone() {
        CgroupServiceImpl service = new CgroupServiceImpl(new HostPaths(tmp.resolve("absent"), tmp.resolve("absent2"),
                tmp, Path.of("/proc")), Duration.ZERO);
        assertEquals("none", service.support().layout());
        assertTrue(service.support().reason().startsWith("cannot read " + tmp.resolve("absent")
                + ": No such file or directory"), service.support().reason());
    }

    @Test
    void containerWithACgroupNamespace() {
        FixtureHost host = new FixtureHost(tmp, "container", "cpu memory pids", false);
        CgroupServiceImpl service = service(host);
        assertTrue(service.layout().container());
        assertEquals("unified", service.support().layout());
        assertTrue(service.support().usable(), service.support().reason());
        assertEquals("inside a container", service.support().reason());
        FixtureHost.v2Group(host.dir("machine"), "cpu memory pids", true);
        assertEquals(List.of(host.dir("machine/vm1.kvmtool").toString()), service.create("machine", "vm1").dirs());
    }

    @Test
    void containerWhoseRootHoldsProcessesCannotDelegateControllers() {
        FixtureHost host = new FixtureHost(tmp, "container", "cpu memory pids", false);
        file(host.dir("cgroup.procs"), "1\n57\n");
        CgroupServiceImpl service = service(host);
        assertFalse(service.support().usable());
        assertTrue(service.support().reason().startsWith("cannot enable +cpu +memory in "
                + host.dir("cgroup.subtree_control") + ": the group holds processes (1 57)"), service.support().reason());

        // once the runtime enabled them (as docker-in-docker entrypoints do), it is usable
        file(host.dir("cgroup.subtree_control"), "cpu memory\n");
        assertTrue(service(host).support().usable());
    }

    @Test
    void containerWithoutNamespaceSeesItsSubtreeBindMounted() {
        FixtureHost host = new FixtureHost(tmp, "container-v1", "", false);
        CgroupServiceImpl service = service(host);
        assertEquals("legacy", service.support().layout());
        assertTrue(service.layout().container());
        assertTrue(service.support().usable(), service.support().reason());
        assertEquals(host.dir("cpu,cpuacct"), service.layout().byController().get("cpu").ownDir());
        assertEquals(List.of(host.dir("cpu,cpuacct/machine/vm1.kvmtool").toString(),
                host.dir("memory/machine/vm1.kvmtool").toString()), service.create("machine", "vm1").dirs());
    }

    @Test
    void readOnlyCgroupfsInAContainerIsNotUsable() {
        FixtureHost host = new FixtureHost(tmp, "container-ro", "cpu memory", false);
        CgroupServiceImpl service = service(host);
        assertFalse(service.support().usable());
        assertEquals("cannot create groups in " + host.cgroup + ": mounted read-only (Read-only file system)"
                + "; per-process figures from /proc are used instead", service.support().reason());
    }

    @Test
    void aMissingControllerIsNamedWhereItIsNeeded() {
        FixtureHost host = new FixtureHost(tmp, "unified", "cpu io pids", true);
        FixtureHost.v2Group(host.dir("machine"), "cpu io pids", true);
        CgroupServiceImpl service = service(host);
        assertTrue(service.support().usable());
        assertEquals("no memory controller", service.support().reason());
        assertFalse(service.support().controllers().containsKey("memory"));
        CgroupRef ref = service.create("machine", "vm1");
        FixtureHost.v2Group(Path.of(ref.dirs().get(0)), "cpu", true);
        KvmtoolException e = fails(ErrorCode.SYSTEM_ERROR, () -> service.setMemoryLimit(ref, 1 << 30));
        assertEquals("cgroup controller 'memory' is missing on this host (layout unified)", e.getMessage());
        assertEquals(-1, service.stats(ref, 0).memoryUsageBytes());
    }

    @Test
    void aControllerNotDelegatedToTheParentFailsCreateNamingTheFile() {
        FixtureHost host = new FixtureHost(tmp, "unified", V2_ALL, true);
        FixtureHost.v2Group(host.dir("machine"), "cpu", true);
        CgroupServiceImpl service = service(host);
        KvmtoolException e = fails(ErrorCode.SYSTEM_ERROR, () -> service.create("machine", "vm1"));
        assertEquals("cgroup controller 'memory' is missing: not in " + host.dir("machine/cgroup.controllers"),
                e.getMessage());
        assertFalse(Files.exists(host.dir("machine/vm1.kvmtool")));
    }

    @Test
    void badNamesAreRejected() {
        CgroupServiceImpl service = service(new FixtureHost(tmp, "legacy", "", true));
        fails(ErrorCode.INVALID_ARG, () -> service.create("machine", "../../etc"));
        fails(ErrorCode.INVALID_ARG, () -> service.create("../x", "vm1"));
        fails(ErrorCode.INVALID_ARG, () -> service.attach(service.create("machine", "vm1"), 0));
    }
}
