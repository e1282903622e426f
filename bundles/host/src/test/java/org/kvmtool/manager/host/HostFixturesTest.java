package org.kvmtool.manager.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.CgroupSupport;
import org.kvmtool.manager.api.CpuMap;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.HostService;
import org.kvmtool.manager.api.HypervisorInfo;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ManagerInfo;
import org.kvmtool.manager.api.NodeInfo;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/** The service over fixture hosts: a two-cell NUMA host with SMT and an offline CPU, and a host without NUMA. */
class HostFixturesTest {
    static final HypervisorInfo LKVM = new HypervisorInfo("/opt/kvmtool/lkvm", true, "3.18.0", null);
    static final ManagerInfo SYSTEM = new ManagerInfo("kvmtool:///system", "0.1.0", LKVM,
            new CgroupSupport("unified", Map.of(), true, null), "kvmtool");

    /** Two sockets, one per cell, 2 cores x 2 threads each; CPU 7 offline. */
    static FixtureHost numa(Path root) {
        FixtureHost h = new FixtureHost(root).arch("x86_64")
                .cpuinfo("GenuineIntel", "Intel(R) Xeon(R) Test CPU", "fpu vme pae vmx sse2", "2400.123", "1200.0",
                        "2600.9")
                .meminfo(16777216, 9000000, 100000, 2000000)
                .cpus("0-7", "0-6")
                .cpu(0, 0, 0, 0, "0-1").cpu(1, 0, 0, 0, "0-1").cpu(2, 0, 0, 1, "2-3").cpu(3, 0, 0, 1, "2-3")
                .cpu(4, 1, 0, 0, "4-5").cpu(5, 1, 0, 0, "4-5").cpu(6, 1, 0, 1, "6")
                .node(0, "0-3", 8388608, 4000000, "10 21").node(1, "4-7", 8388608, 5000000, "21 10")
                .hugepages("sys/kernel/mm/hugepages", 2048, 32)
                .hugepages("sys/kernel/mm/hugepages", 1048576, 0)
                .hugepages("sys/devices/system/node/node0/hugepages", 2048, 16)
                .hugepages("sys/devices/system/node/node0/hugepages", 1048576, 0)
                .hugepages("sys/devices/system/node/node1/hugepages", 2048, 16)
                .hugepages("sys/devices/system/node/node1/hugepages", 1048576, 0)
                .file("proc/self/smaps", "55d0 r--p 00000000 08:01 1 /bin/java\nSize: 8 kB\nKernelPageSize:        4 kB\n")
                .file("proc/self/status", "Name:\tjava\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n")
                .file("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nkvmtool:x:107:110::/nonexistent:/usr/sbin/nologin\n")
                .file("etc/machine-id", "3D1219C7C4C5404AAA1F6D2A48ADFDA4\n")
                .stat("cpu  40784 7 10386 63286 1329 5 343 328 23 0", "cpu0 19089 3 4497 34142 239 2 84 168 16 0",
                        "cpu1 21694 4 5889 29143 1090 3 258 159 7 0");
        return h;
    }

    static HostServiceImpl service(FixtureHost h, int kvmMax) {
        return new HostServiceImpl(h.paths(), p -> kvmMax > 0 ? OptionalInt.of(kvmMax) : OptionalInt.empty());
    }

    @Test
    void nodeInfoFollowsLibvirtsRules(@TempDir Path root) {
        NodeInfo n = service(numa(root), 710).nodeInfo();
        // 7 online CPUs; per cell 1 socket of 2 cores of 2 threads; 2 x 1 x 2 x 2 = the 8 present
        assertEquals(new NodeInfo("x86_64", 16777216, 7, 2600, 2, 1, 2, 2), n);
    }

    @Test
    void aTopologyThatDoesNotMultiplyOutIsReportedFlat(@TempDir Path root) {
        // no NUMA directory; three CPUs claim two threads per core: 1 x 1 x 2 x 2 != 3
        FixtureHost h = new FixtureHost(root).arch("x86_64").cpuinfo("AuthenticAMD", "AMD Test", "fpu", "3000")
                .meminfo(4096000, 1000000, 0, 0).cpus("0-2", "0-2")
                .cpu(0, 0, 0, 0, "0-1").cpu(1, 0, 0, 0, "0-1").cpu(2, 0, 0, 1, "2");
        assertEquals(new NodeInfo("x86_64", 4096000, 3, 3000, 1, 1, 3, 1), service(h, 8).nodeInfo());
    }

    @Test
    void cpuMapCountsPresentAndListsOnline(@TempDir Path root) {
        assertEquals(new CpuMap(8, List.of(0, 1, 2, 3, 4, 5, 6)), service(numa(root), 8).cpuMap());
    }

    @Test
    void freeMemoryPerCellAndForTheHost(@TempDir Path root) {
        HostServiceImpl s = service(numa(root), 8);
        assertEquals(9000000L * 1024, s.freeMemoryBytes());
        assertEquals(List.of(4000000L * 1024, 5000000L * 1024), s.cellsFreeMemory(0, 1024));
        assertEquals(List.of(5000000L * 1024), s.cellsFreeMemory(1, 1));
        assertEquals(List.of(), s.cellsFreeMemory(0, 0));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> s.cellsFreeMemory(2, 1));
        assertEquals(ErrorCode.INVALID_ARG, e.code());
        assertEquals("start cell 2 out of range (0-1)", e.getMessage());
    }

    @Test
    void aHostWithoutNumaIsOneCell(@TempDir Path root) {
        FixtureHost h = new FixtureHost(root).arch("aarch64").file("proc/cpuinfo", "processor\t: 0\nFeatures\t: fp asimd\n\n")
                .meminfo(2048000, 1024000, 1000, 2000).cpus("0-1", "0-1").cpu(0, 0, 0, 0, "0").cpu(1, 0, 0, 1, "1")
                .hugepages("sys/kernel/mm/hugepages", 2048, 3);
        HostServiceImpl s = service(h, 0);
        assertEquals(new NodeInfo("aarch64", 2048000, 2, 0, 1, 1, 2, 1), s.nodeInfo());
        assertEquals(List.of(1024000L * 1024), s.cellsFreeMemory(0, 8));
        // as libvirt: cell 0 of a host without NUMA answers with the host's four figures
        assertEquals(Map.of("total", 2048000L, "free", 1024000L, "buffers", 1000L, "cached", 2000L), s.memoryStats(0));
        assertEquals(4, s.maxVcpus(), "no /dev/kvm on a non-x86 host: kvmtool's default");
    }

    @Test
    void memoryStatsOfTheHostAndOfACell(@TempDir Path root) {
        HostServiceImpl s = service(numa(root), 8);
        assertEquals(List.of("total", "free", "buffers", "cached"), List.copyOf(s.memoryStats(HostService.ALL).keySet()));
        assertEquals(List.of(16777216L, 9000000L, 100000L, 2000000L), List.copyOf(s.memoryStats(HostService.ALL).values()));
        assertEquals(Map.of("total", 8388608L, "free", 5000000L), s.memoryStats(1));
        assertEquals(ErrorCode.INVALID_ARG, assertThrows(KvmtoolException.class, () -> s.memoryStats(5)).code());
    }

    @Test
    void cpuStatsInLibvirtsOrderAndUnits(@TempDir Path root) {
        HostServiceImpl s = service(numa(root), 8);
        Map<String, Long> all = s.cpuStats(HostService.ALL);
        assertEquals(List.of("kernel", "user", "idle", "iowait"), List.copyOf(all.keySet()));
        long tick = 10_000_000L;
        assertEquals(List.of((10386L + 5 + 343) * tick, (40784L + 7) * tick, 63286L * tick, 1329L * tick),
                List.copyOf(all.values()));
        assertEquals((21694L + 4) * tick, s.cpuStats(1).get("user"));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> s.cpuStats(9));
        assertEquals(ErrorCode.INVALID_ARG, e.code());
        assertTrue(e.getMessage().contains("0-6"), e.getMessage());
    }

    @Test
    void vcpuLimitIsKvmsCappedByKvmtoolsMpTable(@TempDir Path root) {
        assertEquals(255, service(numa(root), 1024).maxVcpus());
        assertEquals(240, service(numa(root), 240).maxVcpus());
        assertEquals(255, service(numa(root), 0).maxVcpus(), "KVM not asked: kvmtool's own x86 limit");
    }

    @Test
    void capabilitiesDescribeCellsCpusAndTheGuest(@TempDir Path root) throws Exception {
        Document d = parse(service(numa(root), 8).capabilitiesXml(SYSTEM));
        assertEquals("3d1219c7-c4c5-404a-aa1f-6d2a48adfda4", xpath(d, "/capabilities/host/uuid"));
        assertEquals("x86_64", xpath(d, "/capabilities/host/cpu/arch"));
        assertEquals("Intel", xpath(d, "/capabilities/host/cpu/vendor"));
        assertEquals("Intel(R) Xeon(R) Test CPU", xpath(d, "/capabilities/host/cpu/model"));
        assertEquals("vmx", xpath(d, "/capabilities/host/cpu/feature[4]/@name"));
        assertEquals("2", xpath(d, "/capabilities/host/cpu/topology/@cores"));
        assertEquals("2", xpath(d, "/capabilities/host/topology/cells/@num"));
        assertEquals("8388608", xpath(d, "/capabilities/host/topology/cells/cell[@id='1']/memory"));
        assertEquals("2097152", xpath(d, "/capabilities/host/topology/cells/cell[@id='1']/pages[@size='4']"));
        assertEquals("16", xpath(d, "/capabilities/host/topology/cells/cell[@id='1']/pages[@size='2048']"));
        assertEquals("21", xpath(d, "/capabilities/host/topology/cells/cell[@id='0']/distances/sibling[@id='1']/@value"));
        assertEquals("4", xpath(d, "/capabilities/host/topology/cells/cell[@id='1']/cpus/@num"));
        assertEquals("4-5", xpath(d, "//cell[@id='1']/cpus/cpu[@id='5']/@siblings"));
        assertEquals("1", xpath(d, "//cell[@id='1']/cpus/cpu[@id='5']/@socket_id"));
        assertEquals("", xpath(d, "//cell[@id='1']/cpus/cpu[@id='7']/@socket_id"), "offline: no topology");
        assertEquals("dac", xpath(d, "/capabilities/host/secmodel/model"));
        assertEquals("+107:+110", xpath(d, "/capabilities/host/secmodel/baselabel[@type='kvmtool']"));
        assertEquals("hvm", xpath(d, "/capabilities/guest/os_type"));
        assertEquals("64", xpath(d, "/capabilities/guest/arch[@name='x86_64']/wordsize"));
        assertEquals("/opt/kvmtool/lkvm", xpath(d, "/capabilities/guest/arch/emulator"));
        assertEquals("kvmtool", xpath(d, "/capabilities/guest/arch/domain/@type"));
        assertEquals(0, ((NodeList) XPathFactory.newInstance().newXPath().evaluate("//machine", d,
                XPathConstants.NODESET)).getLength(), "kvmtool has no machine types");
    }

    @Test
    void sessionModeLabelsWithTheManagersOwnIdsAndNoLkvmMeansNoGuest(@TempDir Path root) throws Exception {
        FixtureHost h = numa(root).file("proc/self/status", "Uid:\t1000\t1001\t1000\t1000\nGid:\t100\t102\t100\t100\n");
        ManagerInfo session = new ManagerInfo("kvmtool:///session", "0.1.0",
                new HypervisorInfo("lkvm", false, null, "lkvm not found on PATH"), SYSTEM.cgroups());
        Document d = parse(service(h, 8).capabilitiesXml(session));
        assertEquals("+1001:+102", xpath(d, "/capabilities/host/secmodel/baselabel"));
        assertEquals("", xpath(d, "/capabilities/guest/os_type"));
        KvmtoolException e = assertThrows(KvmtoolException.class,
                () -> service(h, 8).domainCapabilitiesXml(session, null, null, null, null));
        assertEquals("no lkvm is available to run guests: lkvm not found on PATH", e.getMessage());
    }

    @Test
    void domainCapabilitiesRefuseWhatKvmtoolDoesNotRun(@TempDir Path root) throws Exception {
        HostServiceImpl s = service(numa(root), 300);
        Document d = parse(s.domainCapabilitiesXml(SYSTEM, null, null, null, null));
        assertEquals("/opt/kvmtool/lkvm", xpath(d, "/domainCapabilities/path"));
        assertEquals("kvmtool", xpath(d, "/domainCapabilities/domain"));
        assertEquals("255", xpath(d, "/domainCapabilities/vcpu/@max"));
        assertEquals("yes", xpath(d, "//cpu/mode[@name='host-passthrough']/@supported"));
        assertEquals("no", xpath(d, "//os/loader/@supported"));
        assertEquals("virtio", xpath(d, "//devices/disk/enum[@name='bus']/value"));
        assertEquals(s.domainCapabilitiesXml(SYSTEM, null, null, null, null),
                s.domainCapabilitiesXml(SYSTEM, "/opt/kvmtool/lkvm", "x86_64", null, "kvmtool"));
        for (String[] bad : new String[][] {{"/usr/bin/qemu-system-x86_64", null, null, null},
                {null, "aarch64", null, null}, {null, null, "q35", null}, {null, null, null, "kvm"}}) {
            KvmtoolException e = assertThrows(KvmtoolException.class,
                    () -> s.domainCapabilitiesXml(SYSTEM, bad[0], bad[1], bad[2], bad[3]));
            assertEquals(ErrorCode.INVALID_ARG, e.code(), e.getMessage());
        }
    }

    @Test
    void sysinfoHasTheReadableDmiFieldsOnly(@TempDir Path root) throws Exception {
        FixtureHost h = numa(root).file("sys/class/dmi/id/bios_vendor", "SeaBIOS\n")
                .file("sys/class/dmi/id/bios_date", "04/01/2014\n").file("sys/class/dmi/id/sys_vendor", "Q & A <Corp>\n")
                .file("sys/class/dmi/id/board_name", "\n");
        Document d = parse(service(h, 8).sysinfoXml());
        assertEquals("smbios", xpath(d, "/sysinfo/@type"));
        assertEquals("SeaBIOS", xpath(d, "/sysinfo/bios/entry[@name='vendor']"));
        assertEquals("04/01/2014", xpath(d, "/sysinfo/bios/entry[@name='date']"));
        assertEquals("Q & A <Corp>", xpath(d, "/sysinfo/system/entry[@name='manufacturer']"));
        assertEquals("", xpath(d, "/sysinfo/bios/entry[@name='version']"));
        assertFalse(service(h, 8).sysinfoXml().contains("baseBoard"), "a blank field is no entry");
    }

    static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        return f.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
    }

    static String xpath(Document d, String expression) throws Exception {
        return XPathFactory.newInstance().newXPath().evaluate(expression, d);
    }
}
