package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import javax.management.openmbean.CompositeData;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;

import org.junit.Before;
import org.junit.Test;
import org.w3c.dom.Document;
import org.xml.sax.InputSource;

/**
 * Issue #19 item 1 and issue #22 item 1 in the distribution: the host and connection procedures through the stock
 * virsh, python3-libvirt and virt-manager's own library (virtinst), the Karaf shell and kvmtool:type=Host, each
 * figure compared with what /proc and sysfs say, read here by the test's own code. Figures that move (free memory,
 * CPU times, the clock) must lie between a reading before and one after the call. Skipped, saying so, without
 * virsh; the python and virtinst parts without /usr/bin/python3, python3-libvirt or virtinst.
 */
public class HostProceduresIT extends GuestTestSupport {
    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final Path VIRTINST = Path.of("/usr/share/virt-manager/virtinst");
    static final Path SCHEMAS = Path.of("/usr/share/libvirt/schemas");
    static final Path XMLLINT = Path.of("/usr/bin/xmllint");

    @Before
    public void virshIsInstalled() throws Exception {
        assumeTrue(VirshIT.VIRSH + " is absent (Debian: apt-get install libvirt-clients)",
                Files.isExecutable(VirshIT.VIRSH));
        awaitManager();
    }

    // ------------------------------------------------------------ the host, read by the test's own code

    static List<String> lines(String path) throws Exception {
        return Files.readAllLines(Path.of(path));
    }

    static String value(String path) throws Exception {
        return lines(path).get(0).trim();
    }

    /** "0-3,5" -> [0, 1, 2, 3, 5]. */
    static List<Integer> ids(String list) {
        List<Integer> out = new ArrayList<>();
        for (String part : list.trim().split(",")) {
            if (part.isBlank()) {
                continue;
            }
            String[] r = part.split("-");
            for (int i = Integer.parseInt(r[0]); i <= Integer.parseInt(r[r.length - 1]); i++) {
                out.add(i);
            }
        }
        return out;
    }

    static Map<String, Long> meminfo(String path) throws Exception {
        Map<String, Long> m = new HashMap<>();
        for (String l : lines(path)) {
            String[] f = l.replaceFirst("^Node \\d+ ", "").split(":\\s+");
            m.put(f[0], Long.parseLong(f[1].split(" ")[0]));
        }
        return m;
    }

    static List<Integer> cells() throws Exception {
        Path dir = Path.of("/sys/devices/system/node");
        if (!Files.isDirectory(dir)) {
            return List.of(0);
        }
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.matches("node\\d+"))
                    .map(n -> Integer.parseInt(n.substring(4))).sorted().toList();
        }
    }

    static long cellFreeKiB(int cell) throws Exception {
        return Files.isDirectory(Path.of("/sys/devices/system/node"))
                ? meminfo("/sys/devices/system/node/node" + cell + "/meminfo").get("MemFree")
                : meminfo("/proc/meminfo").get("MemFree");
    }

    static long cellTotalKiB(int cell) throws Exception {
        return Files.isDirectory(Path.of("/sys/devices/system/node"))
                ? meminfo("/sys/devices/system/node/node" + cell + "/meminfo").get("MemTotal")
                : meminfo("/proc/meminfo").get("MemTotal");
    }

    static int mhz() throws Exception {
        int mhz = 0;
        for (String l : lines("/proc/cpuinfo")) {
            if (l.startsWith("cpu MHz")) {
                mhz = (int) Double.parseDouble(l.split(":")[1].trim());
            }
        }
        return mhz;
    }

    /** user+nice, system+irq+softirq, idle, iowait of a /proc/stat line, in ns. */
    static long[] procStat(String cpu) throws Exception {
        for (String l : lines("/proc/stat")) {
            String[] f = l.split("\\s+");
            if (f[0].equals(cpu)) {
                long t = 10_000_000L;
                return new long[] {(Long.parseLong(f[1]) + Long.parseLong(f[2])) * t,
                        (Long.parseLong(f[3]) + Long.parseLong(f[6]) + Long.parseLong(f[7])) * t,
                        Long.parseLong(f[4]) * t, Long.parseLong(f[5]) * t};
            }
        }
        throw new AssertionError("no " + cpu + " in /proc/stat");
    }

    /** sockets, cores per socket, threads per core of the online CPUs, as libvirt counts them (per cell). */
    static int[] topology() throws Exception {
        List<Integer> online = ids(value("/sys/devices/system/cpu/online"));
        int sockets = 0;
        int cores = 0;
        int threads = 0;
        for (int cell : cells()) {
            List<Integer> cpus = Files.isDirectory(Path.of("/sys/devices/system/node"))
                    ? ids(value("/sys/devices/system/node/node" + cell + "/cpulist"))
                    : ids(value("/sys/devices/system/cpu/present"));
            Map<String, Set<String>> coresOf = new HashMap<>();
            Map<String, Integer> threadsOf = new HashMap<>();
            for (int c : cpus) {
                if (!online.contains(c)) {
                    continue;
                }
                String t = "/sys/devices/system/cpu/cpu" + c + "/topology/";
                String socket = value(t + "physical_package_id");
                String core = socket + "/" + value(t + "die_id") + "/" + value(t + "core_id");
                coresOf.computeIfAbsent(socket, k -> new HashSet<>()).add(core);
                threadsOf.merge(core, 1, Integer::sum);
            }
            sockets = Math.max(sockets, coresOf.size());
            cores = Math.max(cores, coresOf.values().stream().mapToInt(Set::size).max().orElse(0));
            threads = Math.max(threads, threadsOf.values().stream().mapToInt(i -> i).max().orElse(0));
        }
        int present = ids(value("/sys/devices/system/cpu/present")).size();
        return cells().size() * sockets * cores * threads == present ? new int[] {sockets, cores, threads}
                : new int[] {1, present, 1};
    }

    static long ownId(String flag) throws Exception {
        return Long.parseLong(run(Duration.ofSeconds(10), null, list("id", flag)).output().trim());
    }

    // ------------------------------------------------------------ virsh

    static String virsh(String... args) throws Exception {
        return VirshIT.ok(args);
    }

    /** A counter that only grows (CPU times): strictly between the readings before and after. */
    static void between(String what, long before, long value, long after) {
        within(what, before, value, after, 0);
    }

    /**
     * Free memory and the page cache move both ways while other programs run: between the readings, give or take
     * 1 % of the host's memory.
     */
    static void aboutBetween(String what, long before, long value, long after, long total) {
        within(what, before, value, after, total / 100);
    }

    private static void within(String what, long before, long value, long after, long slack) {
        assertTrue(what + ": " + value + " not within [" + before + ", " + after + "] +- " + slack,
                Math.min(before, after) - slack <= value && value <= Math.max(before, after) + slack);
    }

    @Test
    public void nodeinfoAndNodecpumapAsSysfsSays() throws Exception {
        int mhzBefore = mhz();
        String info = virsh("nodeinfo");
        int mhzAfter = mhz();
        List<Integer> online = ids(value("/sys/devices/system/cpu/online"));
        List<Integer> present = ids(value("/sys/devices/system/cpu/present"));
        int[] topology = topology();
        assertEquals(run(Duration.ofSeconds(10), null, list("uname", "-m")).output().trim(), find(info, "^CPU model:\\s+(\\S+)$"));
        assertEquals(Integer.toString(online.size()), find(info, "^CPU\\(s\\):\\s+(\\d+)$"));
        // the clock moves both ways on a host with frequency scaling: within a tenth of the readings
        within("CPU frequency", mhzBefore, Long.parseLong(find(info, "^CPU frequency:\\s+(\\d+) MHz$")), mhzAfter,
                Math.max(mhzBefore, mhzAfter) / 10);
        assertEquals(Integer.toString(topology[0]), find(info, "^CPU socket\\(s\\):\\s+(\\d+)$"));
        assertEquals(Integer.toString(topology[1]), find(info, "^Core\\(s\\) per socket:\\s+(\\d+)$"));
        assertEquals(Integer.toString(topology[2]), find(info, "^Thread\\(s\\) per core:\\s+(\\d+)$"));
        assertEquals(Integer.toString(topology[0] * topology[1] * topology[2] == present.size() ? cells().size() : 1),
                find(info, "^NUMA cell\\(s\\):\\s+(\\d+)$"));
        assertEquals(meminfo("/proc/meminfo").get("MemTotal") + "", find(info, "^Memory size:\\s+(\\d+) KiB$"));

        String map = virsh("nodecpumap");
        int count = present.get(present.size() - 1) + 1;
        assertEquals(Integer.toString(count), find(map, "^CPUs present:\\s+(\\d+)$"));
        assertEquals(Integer.toString(online.size()), find(map, "^CPUs online:\\s+(\\d+)$"));
        StringBuilder yn = new StringBuilder();
        for (int i = 0; i < count; i++) {
            yn.append(online.contains(i) ? 'y' : '-');
        }
        assertEquals(yn.toString(), find(map, "^CPU map:\\s+(\\S+)$"));
    }

    @Test
    public void freecellAndNodememstatsAsMeminfoSays() throws Exception {
        Map<Integer, Long> before = new TreeMap<>();
        for (int c : cells()) {
            before.put(c, cellFreeKiB(c));
        }
        String all = virsh("freecell", "--all");
        long total = 0;
        for (int c : cells()) {
            long free = Long.parseLong(find(all, "^\\s*" + c + ":\\s+(\\d+) KiB$"));
            aboutBetween("free KiB of cell " + c, before.get(c), free, cellFreeKiB(c), cellTotalKiB(c));
            total += free;
        }
        assertEquals(Long.toString(total), find(all, "^Total:\\s+(\\d+) KiB$"));

        long freeBefore = meminfo("/proc/meminfo").get("MemFree");
        String plain = virsh("freecell");
        aboutBetween("freecell", freeBefore, Long.parseLong(find(plain, "^Total: (\\d+) KiB$")),
                meminfo("/proc/meminfo").get("MemFree"), meminfo("/proc/meminfo").get("MemTotal"));

        Map<String, Long> m0 = meminfo("/proc/meminfo");
        String stats = virsh("nodememstats");
        Map<String, Long> m1 = meminfo("/proc/meminfo");
        assertEquals(m0.get("MemTotal") + "", find(stats, "^total\\s*:\\s+(\\d+) KiB$"));
        aboutBetween("free", m0.get("MemFree"), Long.parseLong(find(stats, "^free\\s*:\\s+(\\d+) KiB$")), m1.get("MemFree"),
                m0.get("MemTotal"));
        aboutBetween("buffers", m0.get("Buffers"), Long.parseLong(find(stats, "^buffers\\s*:\\s+(\\d+) KiB$")), m1.get("Buffers"),
                m0.get("MemTotal"));
        aboutBetween("cached", m0.get("Cached"), Long.parseLong(find(stats, "^cached\\s*:\\s+(\\d+) KiB$")), m1.get("Cached"),
                m0.get("MemTotal"));

        int last = cells().get(cells().size() - 1);
        String cell = virsh("nodememstats", "--cell", Integer.toString(last));
        assertEquals(Long.toString(cellTotalKiB(last)), find(cell, "^total\\s*:\\s+(\\d+) KiB$"));
    }

    @Test
    public void nodecpustatsAsProcStatSays() throws Exception {
        for (String[] c : new String[][] {{"cpu"}, {"cpu0", "--cpu", "0"}}) {
            long[] before = procStat(c[0]);
            List<String> args = list("nodecpustats");
            args.addAll(List.of(c).subList(1, c.length));
            String out = virsh(args.toArray(String[]::new));
            long[] after = procStat(c[0]);
            String[] names = {"user", "system", "idle", "iowait"};
            for (int i = 0; i < 4; i++) {
                between(c[0] + " " + names[i], before[i], Long.parseLong(find(out, "^" + names[i] + ":\\s+(\\d+)$")), after[i]);
            }
        }
    }

    @Test
    public void maxvcpusAsKvmSaysAndDomcapabilitiesValidate() throws Exception {
        int max = Integer.parseInt(virsh("maxvcpus").trim());
        if (Files.isExecutable(PYTHON) && Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"))) {
            Run kvm = run(Duration.ofSeconds(30), null, list(PYTHON.toString(), "-c",
                    "import fcntl, os; print(fcntl.ioctl(os.open('/dev/kvm', os.O_RDWR), 0xAE03, 66))"));
            assertEquals(kvm.output(), 0, kvm.exitCode());
            // kvmtool's x86 MP table lists at most 255 CPUs
            assertEquals(Math.min(Integer.parseInt(kvm.output().trim()), 255), max);
        }
        String caps = virsh("domcapabilities");
        Document d = xml(caps);
        assertEquals(mbeans().getAttribute(managerName(), "HypervisorBinary"), xpath(d, "/domainCapabilities/path"));
        assertEquals("kvmtool", xpath(d, "/domainCapabilities/domain"));
        assertEquals(Integer.toString(max), xpath(d, "/domainCapabilities/vcpu/@max"));
        assertEquals("yes", xpath(d, "/domainCapabilities/cpu/mode[@name='host-passthrough']/@supported"));
        validate(SCHEMAS.resolve("domaincaps.rng"), caps);
        Run wrong = VirshIT.virsh("domcapabilities", "--virttype", "kvm");
        assertEquals(1, wrong.exitCode());
        assertTrue(wrong.output(), wrong.output().contains("kvmtool-manager runs domains of type 'kvmtool'"));
    }

    @Test
    public void capabilitiesAsSysfsSays() throws Exception {
        String caps = virsh("capabilities");
        Document d = xml(caps);
        assertEquals(run(Duration.ofSeconds(10), null, list("uname", "-m")).output().trim(), xpath(d, "/capabilities/host/cpu/arch"));
        List<Integer> cells = cells();
        assertEquals(Integer.toString(cells.size()), xpath(d, "/capabilities/host/topology/cells/@num"));
        for (int c : cells) {
            String cell = "/capabilities/host/topology/cells/cell[@id='" + c + "']";
            assertEquals(Long.toString(cellTotalKiB(c)), xpath(d, cell + "/memory"));
            List<Integer> cpus = Files.isDirectory(Path.of("/sys/devices/system/node"))
                    ? ids(value("/sys/devices/system/node/node" + c + "/cpulist"))
                    : ids(value("/sys/devices/system/cpu/present"));
            assertEquals(Integer.toString(cpus.size()), xpath(d, cell + "/cpus/@num"));
            for (int cpu : cpus) {
                String t = "/sys/devices/system/cpu/cpu" + cpu + "/topology/";
                assertEquals(value(t + "core_id"), xpath(d, cell + "/cpus/cpu[@id='" + cpu + "']/@core_id"));
                assertEquals(value(t + "physical_package_id"), xpath(d, cell + "/cpus/cpu[@id='" + cpu + "']/@socket_id"));
                assertEquals(value(t + "thread_siblings_list"), xpath(d, cell + "/cpus/cpu[@id='" + cpu + "']/@siblings"));
            }
        }
        String flags = lines("/proc/cpuinfo").stream().filter(l -> l.startsWith("flags")).findFirst().orElse(":")
                .split(":")[1].trim();
        assertEquals(new TreeSet<>(List.of(flags.split("\\s+"))), new TreeSet<>(List.of(
                xpathAll(d, "/capabilities/host/cpu/feature/@name"))));
        // session mode: lkvm runs as the manager's (this test's) user
        assertEquals("+" + ownId("-u") + ":+" + ownId("-g"), xpath(d, "/capabilities/host/secmodel[model='dac']/baselabel[@type='kvmtool']"));
        assertEquals("hvm", xpath(d, "/capabilities/guest/os_type"));
        assertEquals(mbeans().getAttribute(managerName(), "HypervisorBinary"), xpath(d, "/capabilities/guest/arch/emulator"));
        assertEquals("kvmtool", xpath(d, "/capabilities/guest/arch/domain/@type"));
        // libvirt's schema lists its own drivers' domain types only: kvmtool is added for the check, nothing else
        Path overlay = workDir().resolve("caps-kvmtool.rng");
        Files.writeString(overlay, "<grammar xmlns='http://relaxng.org/ns/structure/1.0'><include href='"
                + SCHEMAS.resolve("capability.rng") + "'><define name='domain'><element name='domain'>"
                + "<attribute name='type'><value>kvmtool</value></attribute><optional><ref name='emulator'/></optional>"
                + "<zeroOrMore><ref name='machine'/></zeroOrMore></element></define></include></grammar>");
        validate(overlay, caps);
    }

    @Test
    public void sysinfoAsDmiSays() throws Exception {
        Document d = xml(virsh("sysinfo"));
        assertEquals("smbios", xpath(d, "/sysinfo/@type"));
        Map<String, String> files = Map.of("bios/entry[@name='vendor']", "bios_vendor", "bios/entry[@name='date']",
                "bios_date", "system/entry[@name='manufacturer']", "sys_vendor", "system/entry[@name='product']",
                "product_name", "baseBoard/entry[@name='product']", "board_name", "chassis/entry[@name='manufacturer']",
                "chassis_vendor");
        for (Map.Entry<String, String> e : files.entrySet()) {
            Path f = Path.of("/sys/class/dmi/id", e.getValue());
            String expected = Files.isReadable(f) ? Files.readString(f).trim() : "";
            assertEquals(e.getValue(), expected, xpath(d, "/sysinfo/" + e.getKey()));
        }
    }

    @Test
    public void versionNamesTheDaemon() throws Exception {
        String out = virsh("version", "--daemon");
        assertEquals(managerVersion(), find(out, "^Running against daemon: (\\S+)$"));
    }

    @Test
    public void theReadOnlySocketServesTheHostProcedures() throws Exception {
        Run r = VirshIT.virshAt(VirshIT.readOnlySocket(), "nodeinfo");
        assertEquals(r.output(), 0, r.exitCode());
        Run caps = VirshIT.virshAt(VirshIT.readOnlySocket(), "capabilities");
        assertTrue(caps.output(), caps.exitCode() == 0 && caps.output().contains("<domain type='kvmtool'/>"));
    }

    // ------------------------------------------------------------ python3-libvirt and virtinst

    static Run python(String script) throws Exception {
        return run(Duration.ofSeconds(60), null, list(PYTHON.toString(), "-c", script, VirshIT.uri(rpcSocket())));
    }

    @Test
    public void pythonLibvirtCallsAsTheHostSays() throws Exception {
        assumeTrue(PYTHON + " is absent", Files.isExecutable(PYTHON));
        Run probe = python("import libvirt");
        assumeTrue("python3-libvirt is absent (Debian: apt-get install python3-libvirt)", probe.exitCode() == 0);
        long freeBefore = meminfo("/proc/meminfo").get("MemFree") * 1024;
        Run r = python("""
                import sys, libvirt
                c = libvirt.open(sys.argv[1])
                print(*c.getInfo())
                present, online, n = c.getCPUMap()
                print(present, n, ''.join('y' if b else '-' for b in online))
                print(c.getFreeMemory())
                print(*c.getCellsFreeMemory(0, 1024))
                print(c.isSecure(), c.isEncrypted(), c.getLibVersion())
                print(c.getCapabilities().count('<cell id='), c.getSysinfo().startswith("<sysinfo type='smbios'"))
                """);
        long freeAfter = meminfo("/proc/meminfo").get("MemFree") * 1024;
        assertEquals(r.output(), 0, r.exitCode());
        List<String> out = r.output().lines().toList();
        String[] info = out.get(0).split(" ");
        List<Integer> online = ids(value("/sys/devices/system/cpu/online"));
        List<Integer> present = ids(value("/sys/devices/system/cpu/present"));
        assertEquals(run(Duration.ofSeconds(10), null, list("uname", "-m")).output().trim(), info[0]);
        assertEquals(meminfo("/proc/meminfo").get("MemTotal") / 1024, Long.parseLong(info[1])); // MiB
        assertEquals(online.size(), Integer.parseInt(info[2]));
        int[] t = topology();
        assertEquals(t[0] + " " + t[1] + " " + t[2], info[5] + " " + info[6] + " " + info[7]);
        String[] map = out.get(1).split(" ");
        assertEquals(present.get(present.size() - 1) + 1, Integer.parseInt(map[0]));
        assertEquals(online.size(), Integer.parseInt(map[1]));
        aboutBetween("getFreeMemory", freeBefore, Long.parseLong(out.get(2)), freeAfter,
                meminfo("/proc/meminfo").get("MemTotal") * 1024);
        assertEquals(cells().size(), out.get(3).split(" ").length);
        // secure (a local socket), not encrypted (no TLS), the daemon is kvmtool-manager of this version
        assertEquals("1 0 " + versionNumber(), out.get(4));
        assertEquals(cells().size() + " True", out.get(5));
    }

    /** The manager's version as major.minor.micro ("0.1.0-SNAPSHOT" -> "0.1.0"). */
    private static String managerVersion() throws Exception {
        return find((String) mbeans().getAttribute(managerName(), "Version"), "^(\\d+\\.\\d+\\.\\d+)");
    }

    private static String versionNumber() throws Exception {
        String[] v = managerVersion().split("\\.");
        long n = 0;
        for (int i = 0; i < 3; i++) {
            n = n * 1000 + (i < v.length ? Long.parseLong(v[i]) : 0);
        }
        return Long.toString(n);
    }

    @Test
    public void virtManagersConnectionPathHeadless() throws Exception {
        assumeTrue(PYTHON + " is absent", Files.isExecutable(PYTHON));
        assumeTrue(VIRTINST + " is absent (Debian: apt-get install virtinst)", Files.isDirectory(VIRTINST));
        Run r = python("""
                import sys
                sys.path.insert(0, '/usr/share/virt-manager')
                import virtinst
                conn = virtinst.VirtinstConnection(sys.argv[1])
                conn.open(None, None)
                info = conn.caps.guest_lookup(os_type='hvm')
                print(info.hypervisor_type, info.os_type, info.arch, info.emulator, len(info.machines))
                print(conn.caps.host.cpu.arch, len(conn.caps.guests))
                dc = virtinst.DomainCapabilities.build_from_params(conn, info.emulator, info.arch, None, info.hypervisor_type)
                print(dc.domain, dc.path, dc.arch, dc.supports_uefi_loader(), dc.devices.disk.get_enum('bus').get_values())
                """);
        assertEquals(r.output(), 0, r.exitCode());
        List<String> out = r.output().lines().toList();
        String arch = run(Duration.ofSeconds(10), null, list("uname", "-m")).output().trim();
        String lkvm = (String) mbeans().getAttribute(managerName(), "HypervisorBinary");
        assertEquals("kvmtool hvm " + arch + " " + lkvm + " 0", out.get(0));
        assertEquals(arch + " 1", out.get(1));
        assertEquals("kvmtool " + lkvm + " " + arch + " False ['virtio']", out.get(2));
    }

    // ------------------------------------------------------------ the Karaf shell and JMX

    @Test
    public void shellAndJmxSayWhatVirshSays() throws Exception {
        String virshInfo = virsh("nodeinfo");
        String shellInfo = executeCommandAs(VIEWER_USER, "kvmtool:nodeinfo", "viewer");
        // the clock may move between the two readings; every other line is the same
        assertEquals(virshInfo.lines().filter(l -> !l.startsWith("CPU frequency") && !l.isBlank()).collect(Collectors.toList()),
                shellInfo.lines().filter(l -> !l.startsWith("CPU frequency") && !l.isBlank()).collect(Collectors.toList()));
        assertEquals(virsh("maxvcpus").trim(), executeCommandAs(VIEWER_USER, "kvmtool:maxvcpus", "viewer").trim());
        assertTrue(executeCommand("kvmtool:capabilities").contains("<domain type='kvmtool'/>"));
        assertTrue(executeCommand("kvmtool:domcapabilities").contains("<domain>kvmtool</domain>"));
        assertTrue(executeCommand("kvmtool:sysinfo").contains("<sysinfo type='smbios'"));
        String all = executeCommand("kvmtool:freecell --all");
        assertEquals(cells().size(), all.lines().filter(l -> l.matches("\\s*\\d+:\\s+\\d+ KiB")).count());
        CompositeData node = (CompositeData) mbeans().getAttribute(objectName("kvmtool:type=Host"), "NodeInfo");
        assertEquals(ids(value("/sys/devices/system/cpu/online")).size(), node.get("cpus"));
        assertEquals(meminfo("/proc/meminfo").get("MemTotal"), node.get("memoryKiB"));
        assertEquals(Integer.parseInt(virsh("maxvcpus").trim()), mbeans().getAttribute(objectName("kvmtool:type=Host"), "MaxVcpus"));
    }

    // ------------------------------------------------------------ helpers

    static Document xml(String text) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new InputSource(new StringReader(text)));
    }

    static String xpath(Document d, String expression) throws Exception {
        return XPathFactory.newInstance().newXPath().evaluate(expression, d);
    }

    static String[] xpathAll(Document d, String expression) throws Exception {
        org.w3c.dom.NodeList nodes = (org.w3c.dom.NodeList) XPathFactory.newInstance().newXPath().evaluate(expression, d,
                javax.xml.xpath.XPathConstants.NODESET);
        String[] out = new String[nodes.getLength()];
        for (int i = 0; i < out.length; i++) {
            out[i] = nodes.item(i).getNodeValue();
        }
        return out;
    }

    /** xmllint --relaxng, where Debian's libxml2-utils and libvirt's schemas are installed. */
    static void validate(Path schema, String xml) throws Exception {
        if (!Files.isExecutable(XMLLINT) || !Files.isDirectory(SCHEMAS)) {
            System.out.println("HostProceduresIT: no schema check of " + schema.getFileName()
                    + " (xmllint or libvirt's schemas absent: apt-get install libxml2-utils)");
            return;
        }
        Path doc = Files.createTempFile(workDir(), "doc", ".xml");
        Files.writeString(doc, xml);
        Run r = run(Duration.ofSeconds(60), null, list(XMLLINT.toString(), "--noout", "--relaxng", schema.toString(),
                doc.toString()));
        assertEquals(r.output() + "\n" + xml, 0, r.exitCode());
    }
}
