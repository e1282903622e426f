package org.kvmtool.manager.xml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDefinition.Console;
import org.kvmtool.manager.api.DomainDefinition.ConsoleType;
import org.kvmtool.manager.api.DomainDefinition.Devices;
import org.kvmtool.manager.api.DomainDefinition.Disk;
import org.kvmtool.manager.api.DomainDefinition.Filesystem;
import org.kvmtool.manager.api.DomainDefinition.LifecycleAction;
import org.kvmtool.manager.api.DomainDefinition.NetInterface;
import org.kvmtool.manager.api.DomainDefinition.NetType;
import org.kvmtool.manager.api.DomainDefinition.OsSpec;
import org.kvmtool.manager.api.DomainDefinition.Vsock;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

import java.util.List;
import java.util.UUID;

class CodecTest {
    private static final XmlDomainCodec CODEC = new XmlDomainCodec();

    static String withMemory(String memory) {
        return "<domain type='kvmtool'><name>m</name>" + memory + "<os><kernel>/k</kernel></os></domain>";
    }

    static DomainDefinition sample(String name, String title, String description, String cmdline) {
        return new DomainDefinition(name, UUID.fromString("4dea22b3-1d52-d8f3-2516-782e98ab3fa0"), title, description,
                512L << 20, 256L << 20, 2, new OsSpec("x86_64", "/boot/vmlinuz", "/boot/initrd", cmdline, List.of("hd")),
                "/usr/bin/lkvm", LifecycleAction.RESTART, LifecycleAction.DESTROY, LifecycleAction.RESTART, 1024L, 1L << 30,
                new Devices(List.of(new Disk("/srv/a.img", "vda", false, true), new Disk("/srv/b.img", "vdb", true, false)),
                        List.of(new Filesystem("/srv/share", "share")), new Console(ConsoleType.VIRTIO), true,
                        List.of(new NetInterface(NetType.ETHERNET, "tap0", "52:54:00:00:00:01"), new NetInterface(NetType.USER, null, "52:54:00:00:00:02")),
                        true));
    }

    @ParameterizedTest(name = "{0} {1} = {2} bytes")
    @CsvSource({
        "1, b, 1024", "1024, bytes, 1024", "1025, byte, 2048", "1, , 1024", "1, KiB, 1024", "1, k, 1024", "1, K, 1024",
        "1, KB, 1024", "1000, KB, 1000448", "1024, KB, 1024000", "3, KB, 3072", "1, MiB, 1048576", "1, M, 1048576", "1, MB, 1000448",
        "1, GiB, 1073741824", "1, G, 1073741824", "1, GB, 1000000512", "1, TiB, 1099511627776", "1, T, 1099511627776",
        "1, TB, 1000000000000", "1, mib, 1048576", "1, PiB, 1125899906842624", " 7 , MiB, 7340032"})
    void unitsFollowLibvirtAndRoundUpToWholeKiB(String value, String unit, long bytes) {
        String attr = unit == null ? "" : " unit='" + unit + "'";
        long parsed = CODEC.read(withMemory("<memory" + attr + ">" + value + "</memory>")).definition().maxMemoryBytes();
        assertEquals(bytes, parsed);
        assertEquals(0, parsed % 1024);
    }

    @Test
    void absentPartsTakeLibvirtsDefaults() {
        DomainDefinition d = CODEC.parse(withMemory("<memory unit='MiB'>64</memory>"));
        assertEquals(64L << 20, d.currentMemoryBytes(), "currentMemory defaults to memory");
        assertEquals(1, d.vcpus());
        assertEquals("x86_64", d.os().arch());
        assertEquals(LifecycleAction.DESTROY, d.onPoweroff());
        assertEquals(LifecycleAction.RESTART, d.onReboot());
        assertEquals(LifecycleAction.DESTROY, d.onCrash());
        assertEquals(ConsoleType.SERIAL, d.devices().console().type());
        assertTrue(d.devices().balloon(), "no <memballoon> means a virtio balloon, as in libvirt");
        assertTrue(!d.devices().rng() && d.devices().disks().isEmpty() && d.devices().interfaces().isEmpty());
        assertNull(d.emulator());
        assertNull(d.cpuShares());
        assertNull(d.memoryHardLimitBytes());
    }

    @Test
    void aUuidIsGeneratedWhenAbsentAndKeptWhenGiven() {
        String xml = withMemory("<memory>65536</memory>");
        UUID a = CODEC.parse(xml).uuid();
        UUID b = CODEC.parse(xml).uuid();
        assertNotEquals(a, b, "each definition without a uuid gets its own");
        UUID fixed = UUID.fromString("11111111-2222-3333-4444-555555555555");
        assertEquals(fixed, new XmlDomainCodec(() -> fixed).parse(xml).uuid());
        String given = xml.replace("<name>m</name>", "<name>m</name><uuid>4DEA22B31D52D8F32516782E98AB3FA0</uuid>");
        DomainDefinition d = CODEC.parse(given);
        assertEquals(UUID.fromString("4dea22b3-1d52-d8f3-2516-782e98ab3fa0"), d.uuid());
        assertTrue(CODEC.format(d).contains("<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>"));
    }

    @Test
    void theCanonicalFormSaysEverythingKvmtoolWillDo() {
        String out = CODEC.format(CODEC.parse(withMemory("<memory>65536</memory>")));
        for (String part : new String[] {"<uuid>", "<memory unit=\"KiB\">65536</memory>", "<currentMemory unit=\"KiB\">65536</currentMemory>",
            "<vcpu>1</vcpu>", "<type arch=\"x86_64\">hvm</type>", "<clock offset=\"utc\"/>", "<on_poweroff>destroy</on_poweroff>",
            "<on_reboot>restart</on_reboot>", "<on_crash>destroy</on_crash>", "<console type=\"pty\">",
            "<target type=\"serial\" port=\"0\"/>", "<memballoon model=\"virtio\"/>"}) {
            assertTrue(out.contains(part), part + " in\n" + out);
        }
        assertTrue(out.startsWith("<domain type=\"kvmtool\">\n  <name>m</name>\n"), out);
    }

    @Test
    void handBuiltDefinitionsRoundTrip() {
        for (DomainDefinition d : List.of(
                sample("full", "T\u00eftle \ud83d\ude80 & <x> \"q\" 'a'", "multi\n\tline\n  description ]]> &amp;", "console=ttyS0 a=\"b c\""),
                sample("x", null, null, null))) {
            String xml = CODEC.format(d);
            assertEquals(d, CODEC.parse(xml), xml);
            assertEquals(xml, CODEC.format(CODEC.parse(xml)));
        }
    }

    @Test
    void formatRefusesWhatXmlCouldNotCarryBack() {
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> CODEC.format(sample("x", null, null, "a\u0000b")));
        assertEquals(ErrorCode.XML_ERROR, e.code());
        assertEquals("invalid value at /domain/os/cmdline='a\\x00b': a kernel command line is one non-empty line without control characters",
                e.getMessage());
        assertEquals(ErrorCode.XML_ERROR, assertThrows(KvmtoolException.class,
                () -> CODEC.format(sample("x", "lone \ud800 surrogate", null, null))).code());
        assertEquals(ErrorCode.XML_ERROR, assertThrows(KvmtoolException.class,
                () -> CODEC.format(sample("x", null, "carriage\rreturn", null))).code());
        assertEquals(ErrorCode.XML_ERROR, assertThrows(KvmtoolException.class,
                () -> CODEC.format(sample("bad name", null, null, null))).code());
        assertEquals(ErrorCode.XML_ERROR, assertThrows(KvmtoolException.class,
                () -> CODEC.format(sample("x", "", null, null))).code());
    }

    @Test
    void errorsNameThePathAndTheStartOfTheElement() {
        String xml = "<domain type='kvmtool'>\n"
                + "  <name>p</name>\n"
                + "  <memory unit='MiB'>64</memory>\n"
                + "  <os><kernel>/k</kernel></os>\n"
                + "  <devices>\n"
                + "    <disk type='file'>\n"
                + "      <source file='/a.img'/>\n"
                + "      <target dev='vda'/>\n"
                + "    </disk>\n"
                + "    <disk type='file'><source file='/b.img'/>\n"
                + "      <target dev='hdb' bus='ide'/></disk>\n"
                + "  </devices>\n"
                + "</domain>\n";
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> CODEC.parse(xml));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, e.code());
        assertEquals("unsupported configuration at /domain/devices/disk[2]/target/@bus='ide' (line 11:7): kvmtool only has virtio disks: bus='virtio'",
                e.getMessage());
        // An element right after another tag (no text in between) is placed as exactly.
        KvmtoolException f = assertThrows(KvmtoolException.class, () -> CODEC.parse(xml.replace("<source file='/b.img'/>", "<source file='/b.img'/><gadget/>")));
        assertEquals("unknown element at /domain/devices/disk[2]/gadget (line 10:46): not part of the domain XML kvmtool-manager understands",
                f.getMessage());
    }

    @Test
    void validationOfAParsedDefinitionPointsIntoTheDocument() {
        String xml = "<domain type='kvmtool'>\n  <name>v</name>\n  <memory unit='MiB'>64</memory>\n  <os>\n    <kernel>/k</kernel>\n  </os>\n"
                + "  <devices>\n    <serial type='pty'/>\n  </devices>\n</domain>";
        XmlDomainCodec.Parsed p = CODEC.read(xml.replace("<kernel>/k</kernel>", "<kernel>k</kernel>"));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> CODEC.validate(p));
        assertEquals("invalid value at /domain/os/kernel='k' (line 5:5): must be an absolute path", e.getMessage());
        // The same rule on a definition made in code names the canonical path alone.
        KvmtoolException g = assertThrows(KvmtoolException.class, () -> CODEC.format(p.definition()));
        assertEquals("invalid value at /domain/os/kernel='k': must be an absolute path", g.getMessage());
    }

    @Test
    void aSerialStandsForTheConsoleAndTheConsoleAliasIsOneDevice() {
        String base = "<domain type='kvmtool'><name>c</name><memory>65536</memory><os><kernel>/k</kernel></os><devices>%s</devices></domain>";
        assertEquals(ConsoleType.SERIAL, CODEC.parse(String.format(base, "<serial type='pty'><target port='0'/></serial>"
                + "<console type='pty'><target type='serial' port='0'/></console>")).devices().console().type());
        KvmtoolException e = assertThrows(KvmtoolException.class,
                () -> CODEC.parse(String.format(base, "<console type='pty'/><console type='pty'><target type='virtio'/></console>")));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, e.code());
        assertTrue(e.getMessage().startsWith("unsupported configuration at /domain/devices/console[2]"), e.getMessage());
    }

    static String withDevices(String devices) {
        return "<domain type='kvmtool'>\n  <name>n</name>\n  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n"
                + "  <memory unit='MiB'>64</memory>\n  <os><kernel>/k</kernel></os>\n  <devices>\n" + devices
                + "\n  </devices>\n</domain>\n";
    }

    @Test
    void aBridgeInterfaceGetsAManagedTapAndAMacKeptInTheDefinition() {
        DomainDefinition d = CODEC.parse(withDevices("<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>"
                + "<interface type='bridge'><source bridge='br0'/><target dev='web0'/></interface>"));
        NetInterface first = d.devices().interfaces().get(0);
        NetInterface second = d.devices().interfaces().get(1);
        assertEquals(NetType.BRIDGE, first.type());
        assertEquals("br0", first.bridge());
        assertTrue(first.managed() && second.managed(), "the manager makes a bridge's taps");
        assertNull(first.tapDevice(), "named when the domain starts");
        assertEquals("web0", second.tapDevice());
        assertTrue(first.mac().matches("52:54:00(:[0-9a-f]{2}){3}"), first.mac());
        assertNotEquals(first.mac(), second.mac());
        // the same definition always gets the same addresses, and the canonical form keeps them
        assertEquals(d, CODEC.parse(withDevices("<interface type='bridge'><source bridge='br0'/></interface>"
                + "<interface type='bridge'><source bridge='br0'/><target dev='web0'/></interface>")));
        String out = CODEC.format(d);
        assertTrue(out.contains("<interface type=\"bridge\">\n      <source bridge=\"br0\"/>\n      <mac address=\"" + first.mac()
                + "\"/>\n      <model type=\"virtio\"/>\n    </interface>"), out);
        assertTrue(out.contains("<target dev=\"web0\"/>"), out);
        assertEquals(d, CODEC.parse(out));
        // another domain (another uuid) gets other addresses
        DomainDefinition other = new XmlDomainCodec().parse(withDevices("<interface type='bridge'><source bridge='br0'/></interface>")
                .replace("<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>", ""));
        assertNotEquals(first.mac(), other.devices().interfaces().get(0).mac());
    }

    @Test
    void aGeneratedMacAvoidsTheAddressesGiven() {
        DomainDefinition probe = CODEC.parse(withDevices("<interface type='user'/>"));
        String generated = probe.devices().interfaces().get(0).mac();
        DomainDefinition d = CODEC.parse(withDevices("<interface type='user'/><interface type='ethernet'><mac address='"
                + generated.toUpperCase(java.util.Locale.ROOT) + "'/></interface>"));
        assertEquals(generated, d.devices().interfaces().get(1).mac());
        assertNotEquals(generated, d.devices().interfaces().get(0).mac());
    }

    @Test
    void anEthernetInterfaceIsAManagedTapUnlessManagedNoNamesAnExistingOne() {
        DomainDefinition d = CODEC.parse(withDevices("<interface type='ethernet'/>"
                + "<interface type='ethernet'><target dev='mine0'/></interface>"
                + "<interface type='ethernet'><target dev='tap9' managed='no'/></interface>"));
        List<NetInterface> n = d.devices().interfaces();
        assertTrue(n.get(0).managed() && n.get(0).tapDevice() == null);
        assertTrue(n.get(1).managed() && "mine0".equals(n.get(1).tapDevice()));
        assertTrue(!n.get(2).managed() && "tap9".equals(n.get(2).tapDevice()));
        String out = CODEC.format(d);
        assertTrue(out.contains("<target managed=\"yes\"/>") || out.contains("<target dev=\"mine0\" managed=\"yes\"/>"), out);
        assertTrue(out.contains("<target dev=\"tap9\" managed=\"no\"/>"), out);
        assertEquals(d, CODEC.parse(out));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "<interface type='network'><source network='default'/></interface>|CONFIG_UNSUPPORTED|unsupported configuration at "
            + "/domain/devices/interface[1]/@type='network' (line 7:1): libvirt networks are not managed here; use <interface type='bridge'>",
        "<interface type='bridge'/>|XML_ERROR|missing element at /domain/devices/interface[1]/source (line 7:1): a bridge interface names its bridge: <source bridge='br0'/>",
        "<interface type='bridge'><source bridge='br0'/><target dev='t' managed='no'/></interface>|CONFIG_UNSUPPORTED|"
            + "unsupported configuration at /domain/devices/interface[1]/target/@managed='no' (line 7:48): kvmtool-manager makes a bridge "
            + "interface's tap; an existing tap is <interface type='ethernet'> with managed='no'",
        "<interface type='ethernet'><target managed='no'/></interface>|XML_ERROR|missing attribute at "
            + "/domain/devices/interface[1]/target/@dev (line 7:28): managed='no' uses an existing tap: name it with <target dev='...'/>",
        "<interface type='ethernet'><source bridge='br0'/></interface>|CONFIG_UNSUPPORTED|unsupported configuration at "
            + "/domain/devices/interface[1]/source (line 7:28): a type='ethernet' interface has no source: its tap is <target dev='...'/>",
        "<interface type='bridge'><source bridge='br0'/><mtu size='9000'/></interface>|CONFIG_UNSUPPORTED|unsupported configuration at "
            + "/domain/devices/interface[1]/mtu (line 7:48): kvmtool's network card has no such option (a managed tap takes its bridge's MTU)",
        "<interface type='bridge'><source bridge='a,b'/></interface>|XML_ERROR|invalid value at "
            + "/domain/devices/interface[1]/source/@bridge='a,b' (line 7:26): a bridge name is 1 to 15 of A-Z a-z 0-9 _ . -",
        "<interface type='direct'/>|CONFIG_UNSUPPORTED|unsupported configuration at /domain/devices/interface[1]/@type='direct' (line 7:1): "
            + "kvmtool-manager connects a guest to a bridge (type='bridge'), a tap (type='ethernet') or user-mode networking (type='user')",
        "<vsock model='virtio'><cid auto='no'/></vsock>|XML_ERROR|missing attribute at /domain/devices/vsock/cid/@address (line 7:23): "
            + "auto='no' needs address='N' (3 or more), or say auto='yes'",
        "<vsock model='virtio'><cid address='2'/></vsock>|XML_ERROR|invalid value at /domain/devices/vsock/cid/@address='2' (line 7:23): "
            + "a guest's vsock CID is 3 to 4294967294 (0 to 2 are the hypervisor's and the host's)",
        "<vsock model='virtio-transitional'/>|CONFIG_UNSUPPORTED|unsupported configuration at "
            + "/domain/devices/vsock/@model='virtio-transitional' (line 7:1): kvmtool's vsock is model='virtio'",
        "<vsock model='virtio'/><vsock model='virtio'/>|XML_ERROR|duplicate element at /domain/devices/vsock[2] (line 7:24): "
            + "this element may appear only once here",
        "<vsock model='virtio'><alias name='v'/></vsock>|CONFIG_UNSUPPORTED|unsupported configuration at "
            + "/domain/devices/vsock/alias (line 7:23): kvmtool's vsock has no such option"})
    void networkAndVsockRefusalsNameTheElementAndLine(String devices, ErrorCode code, String message) {
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> CODEC.parse(withDevices(devices)));
        assertEquals(message, e.getMessage());
        assertEquals(code, e.code());
    }

    @Test
    void vsockCidsAreGivenOrChosenAtStart() {
        DomainDefinition fixed = CODEC.parse(withDevices("<vsock model='virtio'><cid auto='no' address='42'/></vsock>"));
        assertEquals(new Vsock(42L, false), fixed.devices().vsock());
        for (String auto : new String[] {"<vsock model='virtio'/>", "<vsock model='virtio'><cid auto='yes'/></vsock>", "<vsock model='virtio'><cid/></vsock>"}) {
            DomainDefinition d = CODEC.parse(withDevices(auto));
            assertEquals(new Vsock(null, true), d.devices().vsock(), auto);
            assertTrue(CODEC.format(d).contains("<vsock model=\"virtio\">\n      <cid auto=\"yes\"/>\n    </vsock>"), CODEC.format(d));
        }
        // the live definition of a started domain keeps the chosen CID beside auto='yes'
        DomainDefinition live = fixed.withDevices(fixed.devices().withVsock(new Vsock(7L, true)));
        String out = CODEC.format(live);
        assertTrue(out.contains("<cid auto=\"yes\" address=\"7\"/>"), out);
        assertEquals(live, CODEC.parse(out));
        assertTrue(CODEC.format(fixed).contains("<cid auto=\"no\" address=\"42\"/>"));
    }

    @Test
    void hugepagesRoundTripAndTheirOptionsAreRefused() {
        String xml = withMemory("<memory unit='MiB'>64</memory><memoryBacking><hugepages/></memoryBacking>");
        DomainDefinition d = CODEC.parse(xml);
        assertTrue(d.hugepages());
        String out = CODEC.format(d);
        assertTrue(out.contains("  <currentMemory unit=\"KiB\">65536</currentMemory>\n  <memoryBacking>\n    <hugepages/>\n  </memoryBacking>\n  <vcpu>"), out);
        assertEquals(d, CODEC.parse(out));
        assertTrue(!CODEC.parse(withMemory("<memory unit='MiB'>64</memory><memoryBacking/>")).hugepages());
        KvmtoolException page = assertThrows(KvmtoolException.class, () -> CODEC.parse(xml.replace("<hugepages/>",
                "<hugepages><page size='1' unit='G'/></hugepages>")));
        assertEquals("unsupported configuration at /domain/memoryBacking/hugepages/page (line 1:94): kvmtool uses the page size of the hugetlbfs mount",
                page.getMessage());
        KvmtoolException locked = assertThrows(KvmtoolException.class, () -> CODEC.parse(xml.replace("<hugepages/>", "<locked/>")));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, locked.code());
        assertTrue(locked.getMessage().startsWith("unsupported configuration at /domain/memoryBacking/locked"), locked.getMessage());
    }

    @Test
    void theContextClassLoaderIsRestored() {
        ClassLoader before = Thread.currentThread().getContextClassLoader();
        new XmlDomainCodec();
        assertSame(before, Thread.currentThread().getContextClassLoader());
    }
}
