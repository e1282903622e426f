package org.kvmtool.manager.launch.argv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDefinition.Console;
import org.kvmtool.manager.api.DomainDefinition.ConsoleType;
import org.kvmtool.manager.api.DomainDefinition.Devices;
import org.kvmtool.manager.api.DomainDefinition.Disk;
import org.kvmtool.manager.api.DomainDefinition.LifecycleAction;
import org.kvmtool.manager.api.DomainDefinition.NetInterface;
import org.kvmtool.manager.api.DomainDefinition.NetType;
import org.kvmtool.manager.api.DomainDefinition.OsSpec;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

import java.util.List;
import java.util.UUID;

/** What the golden cases do not pin down: the socket path arithmetic, purity, and model-level refusals. */
class ArgvBuilderTest {
    private static final HostCapabilities HOST = HostCapabilities.x86_64(64);

    static DomainDefinition def(String name, long memory, String emulator, Devices devices) {
        return new DomainDefinition(name, UUID.randomUUID(), null, null, memory, memory, 1,
                new OsSpec("x86_64", "/boot/bzImage", null, null, List.of()), emulator, LifecycleAction.DESTROY,
                LifecycleAction.RESTART, LifecycleAction.DESTROY, null, null, devices);
    }

    static Devices devices(List<Disk> disks, List<NetInterface> nics) {
        return new Devices(disks, List.of(), new Console(ConsoleType.SERIAL), false, nics, false);
    }

    @Test
    void theSocketPathIsWhatKvmtoolBuildsAndMustFitIn107Bytes() {
        assertEquals("/home/u/.lkvm//vm.sock", ArgvBuilder.socketPath("/home/u/", "vm"));
        assertEquals("/.lkvm//vm.sock", ArgvBuilder.socketPath("/", "vm"));
        String home = "/h" + "x".repeat(28); // 30 bytes: 30 + "/.lkvm//" (8) + 64 + ".sock" (5) = 107
        String name = "n".repeat(64);
        DomainDefinition d = def(name, 64L << 20, null, devices(List.of(), List.of()));
        assertEquals(107, ArgvBuilder.socketPath(home, name).length());
        assertEquals(name, ArgvBuilder.build(d, HOST, new LaunchPaths("lkvm", home)).get(3));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> ArgvBuilder.build(d, HOST, new LaunchPaths("lkvm", home + "y")));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, e.code());
        assertTrue(e.getMessage().contains("would be 108 bytes"), e.getMessage());
        // UTF-8 bytes count, not characters.
        String wide = "/h" + "\u00e9".repeat(14) + "x"; // 2 + 28 + 1 = 31 bytes in 17 characters
        assertThrows(KvmtoolException.class, () -> ArgvBuilder.build(d, HOST, new LaunchPaths("lkvm", wide)));
    }

    @Test
    void sameInputsSameArgvAndTheListIsImmutable() {
        DomainDefinition d = def("p", 100L << 20, "/opt/lkvm",
                devices(List.of(new Disk("/a.img", "vda", true, true)), List.of(new NetInterface(NetType.USER, null, "52:54:00:AA:00:01"))));
        LaunchPaths paths = new LaunchPaths("/usr/bin/lkvm", "/run/k");
        List<String> a = ArgvBuilder.build(d, HOST, paths);
        assertEquals(a, ArgvBuilder.build(d, HOST, paths));
        assertThrows(UnsupportedOperationException.class, () -> a.add("x"));
        assertEquals("/opt/lkvm", a.get(0), "<emulator> wins over the configured binary");
        assertTrue(a.containsAll(List.of("/a.img,ro,direct", "mode=user,guest_mac=52:54:00:aa:00:01")), a.toString());
    }

    @Test
    void memoryIsRoundedUpToWholeMebibytes() {
        for (long[] c : new long[][] {{1L << 20, 1}, {(1L << 20) + 1024, 2}, {(64L << 20) - 1024, 64}, {Long.MAX_VALUE, Long.MAX_VALUE / (1L << 20) + 1}}) {
            List<String> argv = ArgvBuilder.build(def("m", c[0], null, devices(List.of(), List.of())), HOST, new LaunchPaths("lkvm", "/r"));
            assertEquals(Long.toString(c[1]), argv.get(argv.indexOf("-m") + 1));
        }
        KvmtoolException e = assertThrows(KvmtoolException.class,
                () -> ArgvBuilder.build(def("m", (1L << 20) - 1, null, devices(List.of(), List.of())), HOST, new LaunchPaths("lkvm", "/r")));
        assertEquals(ErrorCode.INVALID_ARG, e.code());
    }

    @Test
    void whatOnlyAHandMadeDefinitionCouldHoldIsRefusedNotPassedOn() {
        LaunchPaths p = new LaunchPaths("lkvm", "/r");
        List<DomainDefinition> bad = List.of(
                def("../x", 64L << 20, null, devices(List.of(), List.of())),
                def("x", 64L << 20, "relative/lkvm", devices(List.of(), List.of())),
                def("x", 64L << 20, null, devices(List.of(new Disk("/a\u0000b", "vda", false, false)), List.of())),
                def("x", 64L << 20, null, devices(List.of(), List.of(new NetInterface(NetType.ETHERNET, "tap0,script=/x", null)))),
                def("x", 64L << 20, null, devices(List.of(), List.of(new NetInterface(NetType.ETHERNET, null, null)))),
                def("x", 64L << 20, null, devices(List.of(), List.of(new NetInterface(NetType.USER, null, "zz")))));
        for (DomainDefinition d : bad) {
            assertEquals(ErrorCode.INVALID_ARG, assertThrows(KvmtoolException.class, () -> ArgvBuilder.build(d, HOST, p)).code());
        }
        DomainDefinition comma = def("x", 64L << 20, null, devices(List.of(new Disk("/a,ro", "vda", false, false)), List.of()));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, assertThrows(KvmtoolException.class, () -> ArgvBuilder.build(comma, HOST, p)).code());
        assertEquals(ErrorCode.INVALID_ARG, assertThrows(KvmtoolException.class,
                () -> ArgvBuilder.build(def("x", 64L << 20, null, devices(List.of(), List.of())), HOST, new LaunchPaths("lkvm", "relative"))).code());
    }
}
