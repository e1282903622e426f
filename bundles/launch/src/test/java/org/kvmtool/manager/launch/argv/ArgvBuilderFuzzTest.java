package org.kvmtool.manager.launch.argv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
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
import org.kvmtool.manager.launch.argv.HostCapabilities.Feature;
import org.kvmtool.manager.xml.XmlDomainCodec;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * The argv builder under Jazzer. {@link #build}: any definition, host and paths give either an argv
 * that keeps the invariants below or a KvmtoolException, nothing else. {@link #buildParsed}: a
 * definition the codec accepted never trips the builder's own model checks (INVALID_ARG): the builder
 * only refuses what a host cannot do.
 *
 * <p>The normal build replays the seeds in {@code ArgvBuilderFuzzTestInputs/}; to fuzz:
 * {@code JAZZER_FUZZ=1 mvn -pl bundles/launch test -Dtest=ArgvBuilderFuzzTest#build} (or #buildParsed).
 */
class ArgvBuilderFuzzTest {
    private static final XmlDomainCodec CODEC = new XmlDomainCodec(() -> UUID.fromString("00000000-0000-4000-8000-000000000001"));
    private static final HostCapabilities HOST = HostCapabilities.x86_64(255);
    private static final LaunchPaths PATHS = new LaunchPaths("/usr/bin/lkvm", "/var/lib/kvmtool");
    private static final String[] STRINGS = {"demo", "/boot/bzImage", "/srv/a.img", "a,b", "/a,ro", "", "/", "..", "tap0",
        "52:54:00:00:00:01", "01:00:5e:00:00:01", "x".repeat(64), "/x\u0000y", "root=/dev/vdb", "console=hvc0", "\u00e9"};

    @FuzzTest(maxDuration = "5m")
    void build(FuzzedDataProvider data) {
        DomainDefinition def = definition(data);
        Set<ConsoleType> consoles = EnumSet.noneOf(ConsoleType.class);
        for (ConsoleType t : ConsoleType.values()) {
            if (data.consumeBoolean()) {
                consoles.add(t);
            }
        }
        Set<Feature> features = EnumSet.noneOf(Feature.class);
        for (Feature f : Feature.values()) {
            if (data.consumeBoolean()) {
                features.add(f);
            }
        }
        HostCapabilities caps = new HostCapabilities(data.consumeBoolean() ? "x86_64" : string(data), consoles,
                data.consumeInt(-1, 300), features);
        LaunchPaths paths = new LaunchPaths(string(data), data.consumeBoolean() ? "/var/lib/kvmtool" : string(data));
        List<String> argv;
        try {
            argv = ArgvBuilder.build(def, caps, paths);
        } catch (KvmtoolException e) {
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            return;
        }
        assertInvariants(def, paths, argv);
    }

    @FuzzTest(maxDuration = "5m")
    void buildParsed(byte[] input) {
        DomainDefinition def;
        try {
            def = CODEC.parse(new String(input, StandardCharsets.UTF_8));
        } catch (KvmtoolException e) {
            return;
        }
        try {
            assertInvariants(def, PATHS, ArgvBuilder.build(def, HOST, PATHS));
        } catch (KvmtoolException e) {
            assertNotEquals(ErrorCode.INVALID_ARG, e.code(), "a valid definition tripped a model check: " + e.getMessage());
        }
    }

    static void assertInvariants(DomainDefinition def, LaunchPaths paths, List<String> argv) {
        assertEquals(def.emulator() != null ? def.emulator() : paths.binary(), argv.get(0));
        assertEquals(List.of("run", "--name", def.name()), argv.subList(1, 4));
        for (String a : argv) {
            assertFalse(a.indexOf('\0') >= 0, "NUL in " + a);
        }
        assertTrue(ArgvBuilder.socketPath(paths.homeDir(), def.name()).getBytes(StandardCharsets.UTF_8).length <= 107);
        long mib = 1024 * 1024;
        long rounded = def.maxMemoryBytes() / mib + (def.maxMemoryBytes() % mib == 0 ? 0 : 1);
        assertEquals(Long.toString(rounded), argv.get(argv.indexOf("-m") + 1), "memory is rounded up to whole MiB");
        assertEquals(def.devices().disks().size(), Collections.frequency(argv, "-d"));
        assertEquals(def.devices().filesystems().size(), Collections.frequency(argv, "--9p"));
        assertEquals(Math.max(1, def.devices().interfaces().size()), Collections.frequency(argv, "-n"));
        assertEquals(def.devices().balloon(), argv.contains("--balloon"));
        assertEquals(def.devices().rng(), argv.contains("--rng"));
        assertEquals("--nodefaults", argv.get(argv.size() - 3));
        assertEquals("-p", argv.get(argv.size() - 2));
        String cmdline = argv.get(argv.size() - 1);
        assertTrue(cmdline.startsWith(ArgvBuilder.X86_DEFAULTS + " console="), cmdline);
        if (def.os().cmdline() != null && !def.os().cmdline().isEmpty()) {
            assertTrue(cmdline.endsWith(" " + def.os().cmdline()), cmdline);
        }
        for (int i = 0; i < argv.size(); i++) {
            if (argv.get(i).equals("-d") || argv.get(i).equals("--9p")) {
                String value = argv.get(i + 1);
                String path = value.substring(0, value.indexOf(',') < 0 ? value.length() : value.indexOf(','));
                assertTrue(path.startsWith("/"), value);
            }
        }
    }

    private static String string(FuzzedDataProvider data) {
        return data.consumeBoolean() ? data.pickValue(STRINGS) : data.consumeString(120);
    }

    private static DomainDefinition definition(FuzzedDataProvider data) {
        List<Disk> disks = new ArrayList<>();
        for (int i = data.consumeInt(0, 6); i > 0; i--) {
            disks.add(new Disk(string(data), "vd" + (char) ('a' + disks.size()), data.consumeBoolean(), data.consumeBoolean()));
        }
        List<Filesystem> fss = new ArrayList<>();
        for (int i = data.consumeInt(0, 3); i > 0; i--) {
            fss.add(new Filesystem(string(data), string(data)));
        }
        List<NetInterface> nics = new ArrayList<>();
        for (int i = data.consumeInt(0, 3); i > 0; i--) {
            boolean tap = data.consumeBoolean();
            nics.add(new NetInterface(tap ? NetType.ETHERNET : NetType.USER, tap || data.consumeBoolean() ? string(data) : null,
                    data.consumeBoolean() ? string(data) : null));
        }
        Devices devices = new Devices(disks, fss, new Console(data.pickValue(ConsoleType.values())), data.consumeBoolean(), nics,
                data.consumeBoolean());
        OsSpec os = new OsSpec(data.consumeBoolean() ? "x86_64" : string(data), string(data),
                data.consumeBoolean() ? string(data) : null, data.consumeBoolean() ? string(data) : null, List.of());
        long memory = data.consumeBoolean() ? data.consumeLong(1L << 20, 1L << 40) : data.consumeLong();
        return new DomainDefinition(string(data), new UUID(data.consumeLong(), data.consumeLong()), null, null, memory, memory,
                data.consumeInt(), os, data.consumeBoolean() ? string(data) : null, LifecycleAction.DESTROY,
                LifecycleAction.RESTART, LifecycleAction.DESTROY, null, null, devices);
    }
}
