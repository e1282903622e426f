package org.kvmtool.manager.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.CpuMap;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.HostService;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ManagerInfo;
import org.kvmtool.manager.api.NodeInfo;
import org.kvmtool.manager.api.testing.FakeDomainDriver;

/** Each host and connection procedure's encoding (remote_protocol.x), through the dispatcher. */
class HostProceduresTest {
    /** A host of fixed figures; records the arguments of the calls that take some. */
    static final class FixedHost implements HostService {
        final List<Object> calls = new ArrayList<>();

        @Override
        public NodeInfo nodeInfo() {
            return new NodeInfo("x86_64", 16_000_000, 7, 2600, 2, 1, 2, 2);
        }

        @Override
        public CpuMap cpuMap() {
            return new CpuMap(10, List.of(0, 1, 2, 8, 9));
        }

        @Override
        public long freeMemoryBytes() {
            return 5_000_000_000L;
        }

        @Override
        public List<Long> cellsFreeMemory(int startCell, int maxCells) {
            calls.add(List.of(startCell, maxCells));
            return List.of(1L << 33, 3L);
        }

        @Override
        public Map<String, Long> cpuStats(int cpu) {
            calls.add(cpu);
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("kernel", 1L);
            m.put("user", 2L);
            m.put("idle", 1L << 40);
            m.put("iowait", 4L);
            return m;
        }

        @Override
        public Map<String, Long> memoryStats(int cell) {
            if (cell > 1) {
                throw new KvmtoolException(ErrorCode.INVALID_ARG, "no NUMA cell " + cell);
            }
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("total", 100L);
            m.put("free", 50L);
            if (cell == ALL) {
                m.put("buffers", 5L);
                m.put("cached", 6L);
            }
            return m;
        }

        @Override
        public int maxVcpus() {
            return 255;
        }

        @Override
        public String sysinfoXml() {
            return "<sysinfo type='smbios'/>";
        }

        @Override
        public String capabilitiesXml(ManagerInfo manager) {
            return "<capabilities>" + manager.uri() + "</capabilities>";
        }

        @Override
        public String domainCapabilitiesXml(ManagerInfo manager, String emulator, String arch, String machine,
                                            String virtType) {
            calls.add(java.util.Arrays.asList(emulator, arch, machine, virtType));
            return "<domainCapabilities/>";
        }
    }

    private final FakeDomainDriver driver = new FakeDomainDriver();
    private final FixedHost host = new FixedHost();
    private final Dispatcher dispatcher = new Dispatcher(driver, host, () -> "h");

    static final class OpenSession implements Session {
        final boolean readOnly;

        OpenSession(boolean readOnly) {
            this.readOnly = readOnly;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void opened(boolean ro) {
        }

        @Override
        public boolean isReadOnly() {
            return readOnly;
        }

        @Override
        public int registerLifecycle(DomainInfo domain, boolean legacy) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void deregister(int callbackId) {
        }

        @Override
        public void deregisterLegacy() {
        }

        @Override
        public void openConsole(Packet call, String domain, boolean force) {
            throw new UnsupportedOperationException();
        }
    }

    private XdrIn call(int proc, Consumer<XdrOut> args) {
        return call(false, proc, args);
    }

    private XdrIn call(boolean readOnly, int proc, Consumer<XdrOut> args) {
        XdrOut a = new XdrOut();
        args.accept(a);
        Packet p = new Packet(Packet.REMOTE_PROGRAM, 1, proc, Packet.CALL, 7, Packet.OK, a.toByteArray());
        return new XdrIn(dispatcher.call(new OpenSession(readOnly), p), 0);
    }

    private static void none(XdrOut out) {
    }

    private RpcException error(int proc, Consumer<XdrOut> args) {
        return assertThrows(RpcException.class, () -> call(proc, args));
    }

    @Test
    void nodeInfoHasTheModelAsThirtyTwoCharsEachInAWord() {
        XdrIn r = call(Proc.NODE_GET_INFO, HostProceduresTest::none);
        StringBuilder model = new StringBuilder();
        for (int i = 0; i < 32; i++) {
            int c = r.readInt();
            if (c != 0) {
                model.append((char) c);
            }
        }
        assertEquals("x86_64", model.toString());
        assertEquals(16_000_000, r.readHyper());
        assertEquals(List.of(7, 2600, 2, 1, 2, 2), List.of(r.readInt(), r.readInt(), r.readInt(), r.readInt(),
                r.readInt(), r.readInt()));
        assertEquals(0, r.rest().length);
    }

    @Test
    void capabilitiesSysinfoDomainCapabilitiesAreStrings() {
        assertEquals("<capabilities>kvmtool:///session</capabilities>",
                call(Proc.CONNECT_GET_CAPABILITIES, HostProceduresTest::none).readString());
        assertEquals("<sysinfo type='smbios'/>", call(Proc.CONNECT_GET_SYSINFO, a -> a.writeInt(0)).readString());
        assertEquals(ErrorCode.INVALID_ARG.libvirtCode(), error(Proc.CONNECT_GET_SYSINFO, a -> a.writeInt(2)).code);
        XdrIn r = call(Proc.CONNECT_GET_DOMAIN_CAPABILITIES, a -> a.writeOptionalString(null)
                .writeOptionalString("x86_64").writeOptionalString(null).writeOptionalString("kvmtool").writeInt(1));
        assertEquals("<domainCapabilities/>", r.readString());
        assertEquals(java.util.Arrays.asList(null, "x86_64", null, "kvmtool"), host.calls.get(0));
        assertEquals(ErrorCode.INVALID_ARG.libvirtCode(), error(Proc.CONNECT_GET_DOMAIN_CAPABILITIES,
                a -> a.writeInt(0).writeInt(0).writeInt(0).writeInt(0).writeInt(2)).code);
    }

    @Test
    void maxVcpusTakesAnOptionalType() {
        assertEquals(255, call(Proc.CONNECT_GET_MAX_VCPUS, a -> a.writeOptionalString(null)).readInt());
        assertEquals(255, call(Proc.CONNECT_GET_MAX_VCPUS, a -> a.writeOptionalString("kvmtool")).readInt());
        RpcException e = error(Proc.CONNECT_GET_MAX_VCPUS, a -> a.writeOptionalString("xen"));
        assertEquals(ErrorCode.INVALID_ARG.libvirtCode(), e.code);
    }

    @Test
    void freeMemoryAndCells() {
        assertEquals(5_000_000_000L, call(Proc.NODE_GET_FREE_MEMORY, HostProceduresTest::none).readHyper());
        XdrIn r = call(Proc.NODE_GET_CELLS_FREE_MEMORY, a -> a.writeInt(0).writeInt(8));
        assertEquals(2, r.readInt());
        assertEquals(1L << 33, r.readHyper());
        assertEquals(3L, r.readHyper());
        assertEquals(List.of(0, 8), host.calls.get(0));
        assertEquals(ErrorCode.INVALID_ARG.libvirtCode(),
                error(Proc.NODE_GET_CELLS_FREE_MEMORY, a -> a.writeInt(0).writeInt(1025)).code);
    }

    @Test
    void cpuStatsAskedForTheirCountThenRead() {
        XdrIn count = call(Proc.NODE_GET_CPU_STATS, a -> a.writeInt(-1).writeInt(0).writeInt(0));
        assertEquals(0, count.readInt());
        assertEquals(4, count.readInt());
        assertTrue(host.calls.isEmpty(), "counting reads no figure");
        XdrIn r = call(Proc.NODE_GET_CPU_STATS, a -> a.writeInt(3).writeInt(4).writeInt(0));
        assertEquals(4, r.readInt());
        assertEquals("kernel", r.readString());
        assertEquals(1L, r.readHyper());
        assertEquals("user", r.readString());
        assertEquals(2L, r.readHyper());
        assertEquals("idle", r.readString());
        assertEquals(1L << 40, r.readHyper());
        assertEquals("iowait", r.readString());
        assertEquals(4L, r.readHyper());
        assertEquals(4, r.readInt());
        assertEquals(List.of(3), host.calls);
        assertEquals(ErrorCode.INVALID_ARG.libvirtCode(),
                error(Proc.NODE_GET_CPU_STATS, a -> a.writeInt(-1).writeInt(3).writeInt(0)).code);
        assertEquals(ErrorCode.INVALID_ARG.libvirtCode(),
                error(Proc.NODE_GET_CPU_STATS, a -> a.writeInt(-1).writeInt(17).writeInt(0)).code);
    }

    @Test
    void memoryStatsOfTheHostAndOfACell() {
        XdrIn count = call(Proc.NODE_GET_MEMORY_STATS, a -> a.writeInt(0).writeInt(-1).writeInt(0));
        assertEquals(0, count.readInt());
        assertEquals(4, count.readInt());
        XdrIn cell = call(Proc.NODE_GET_MEMORY_STATS, a -> a.writeInt(2).writeInt(1).writeInt(0));
        assertEquals(2, cell.readInt());
        assertEquals("total", cell.readString());
        assertEquals(100L, cell.readHyper());
        assertEquals("free", cell.readString());
        assertEquals(50L, cell.readHyper());
        assertEquals(2, cell.readInt());
        RpcException e = error(Proc.NODE_GET_MEMORY_STATS, a -> a.writeInt(2).writeInt(7).writeInt(0));
        assertEquals(ErrorCode.INVALID_ARG.libvirtCode(), e.code);
        assertEquals("no NUMA cell 7", e.getMessage());
    }

    @Test
    void cpuMapHasOneBitPerPresentCpu() {
        XdrIn r = call(Proc.NODE_GET_CPU_MAP, a -> a.writeInt(1).writeInt(1).writeInt(0));
        assertEquals(2, r.readInt());
        // CPUs 0, 1, 2 and 8, 9 of 10: 0b00000111, 0b00000011, then 2 bytes of padding
        assertArrayEquals(new byte[] {0x07, 0x03}, r.readFixedOpaque(2));
        assertEquals(5, r.readInt());
        assertEquals(10, r.readInt());
        XdrIn countOnly = call(Proc.NODE_GET_CPU_MAP, a -> a.writeInt(0).writeInt(0).writeInt(0));
        assertEquals(0, countOnly.readInt());
        assertEquals(0, countOnly.readInt());
        assertEquals(10, countOnly.readInt());
    }

    @Test
    void securityModelIsEmptyCharArraysWithTheirNul() {
        XdrIn r = call(Proc.NODE_GET_SECURITY_MODEL, HostProceduresTest::none);
        assertEquals(List.of(1, 0, 1, 0), List.of(r.readInt(), r.readInt(), r.readInt(), r.readInt()));
        assertEquals(0, r.rest().length);
    }

    @Test
    void connectionAnswers() {
        assertEquals(1, call(Proc.CONNECT_IS_SECURE, HostProceduresTest::none).readInt());
        // the fake driver is version 0.1.0-test
        assertEquals(1000, call(Proc.CONNECT_GET_LIB_VERSION, HostProceduresTest::none).readHyper());
    }

    @Test
    void everyHostProcedureRunsOnTheReadOnlySocket() {
        for (int proc : List.of(Proc.CONNECT_GET_MAX_VCPUS, Proc.NODE_GET_INFO, Proc.CONNECT_GET_CAPABILITIES,
                Proc.NODE_GET_FREE_MEMORY, Proc.NODE_GET_SECURITY_MODEL, Proc.CONNECT_IS_SECURE,
                Proc.CONNECT_GET_LIB_VERSION)) {
            call(true, proc, a -> a.writeOptionalString(null));
        }
        assertTrue(Proc.isReadOnly(Proc.CONNECT_GET_DOMAIN_CAPABILITIES) && Proc.isReadOnly(Proc.NODE_GET_CPU_MAP)
                && Proc.isReadOnly(Proc.NODE_GET_CPU_STATS) && Proc.isReadOnly(Proc.NODE_GET_MEMORY_STATS)
                && Proc.isReadOnly(Proc.CONNECT_GET_SYSINFO) && Proc.isReadOnly(Proc.NODE_GET_CELLS_FREE_MEMORY));
    }

    @Test
    void featuresAreThoseTheServerHas() {
        for (int f = 0; f <= 20; f++) {
            int feature = f;
            boolean yes = call(Proc.CONNECT_SUPPORTS_FEATURE, a -> a.writeInt(feature)).readInt() != 0;
            assertEquals(f == Features.REMOTE || f == Features.PROGRAM_KEEPALIVE || f == Features.REMOTE_EVENT_CALLBACK,
                    yes, "feature " + f);
        }
        assertFalse(Features.supports(Features.REMOTE_CLOSE_CALLBACK));
    }

    @Test
    void withoutHostFactsTheHostProceduresAreNotSupported() {
        Dispatcher bare = new Dispatcher(driver, null, () -> "h");
        Packet p = new Packet(Packet.REMOTE_PROGRAM, 1, Proc.NODE_GET_INFO, Packet.CALL, 1, Packet.OK, new byte[0]);
        RpcException e = assertThrows(RpcException.class, () -> bare.call(new OpenSession(false), p));
        assertEquals(RpcException.VIR_ERR_NO_SUPPORT, e.code);
    }
}
