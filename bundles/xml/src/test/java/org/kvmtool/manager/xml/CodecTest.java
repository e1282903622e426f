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
                        List.of(new NetInterface(NetType.ETHERNET, "tap0", "52:54:00:00:00:01"), new NetInterface(NetType.USER, null, null)),
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

    @Test
    void theContextClassLoaderIsRestored() {
        ClassLoader before = Thread.currentThread().getContextClassLoader();
        new XmlDomainCodec();
        assertSame(before, Thread.currentThread().getContextClassLoader());
    }
}
