package org.kvmtool.manager.rpc;

import java.util.List;
import java.util.Map;

import org.kvmtool.manager.api.CpuMap;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.HostService;
import org.kvmtool.manager.api.NodeInfo;

/**
 * The host and connection procedures: the encoding of each one's arguments and return value
 * (remote_protocol.x), with libvirt's limits and argument checks. The figures are the {@link HostService}'s;
 * nothing here reads the host.
 */
final class HostProcedures {
    /** remote_protocol.x limits. */
    static final int REMOTE_NODE_MAX_CELLS = 1024;
    static final int REMOTE_CPUMAP_MAX = 256;
    static final int REMOTE_NODE_CPU_STATS_MAX = 16;
    static final int REMOTE_NODE_MEMORY_STATS_MAX = 16;
    /** virNodeInfo's model is char[32]: the arch and its NUL. */
    static final int NODE_INFO_MODEL_CHARS = 32;
    /** VIR_CONNECT_GET_DOMAIN_CAPABILITIES_DISABLE_DEPRECATED_FEATURES: kvmtool has nothing deprecated to hide. */
    static final int DOMCAPS_DISABLE_DEPRECATED = 1;

    private final HostService host;
    private final DomainDriver driver;

    HostProcedures(HostService host, DomainDriver driver) {
        this.host = host;
        this.driver = driver;
    }

    /** Reads the call's arguments from {@code in} and writes the return value to {@code out}. */
    void handle(int proc, XdrIn in, XdrOut out) {
        if (host == null) {
            throw RpcException.noSupport("procedure " + proc + " (no host service)");
        }
        switch (proc) {
            case Proc.CONNECT_GET_MAX_VCPUS -> {
                String type = in.readOptionalString();
                if (type != null && !type.equalsIgnoreCase("kvmtool")) {
                    throw invalid("unknown type '" + type + "': this daemon runs kvmtool guests");
                }
                out.writeInt(host.maxVcpus());
            }
            case Proc.NODE_GET_INFO -> nodeInfo(host.nodeInfo(), out);
            case Proc.CONNECT_GET_CAPABILITIES -> out.writeString(host.capabilitiesXml(driver.managerInfo()));
            case Proc.NODE_GET_CELLS_FREE_MEMORY -> {
                int start = in.readInt();
                int max = in.readInt();
                if (max > REMOTE_NODE_MAX_CELLS) {
                    throw invalid("too many NUMA cells: " + max + " > " + REMOTE_NODE_MAX_CELLS);
                }
                List<Long> free = host.cellsFreeMemory(start, max);
                out.writeInt(free.size());
                free.forEach(out::writeHyper);
            }
            case Proc.NODE_GET_FREE_MEMORY -> out.writeHyper(host.freeMemoryBytes());
            case Proc.NODE_GET_SECURITY_MODEL -> {
                // no MAC model labels the guests (DAC only, listed in the capabilities): libvirt's answer is an empty
                // model, and virsh dominfo then asks for no security label
                chars(out, "");
                chars(out, "");
            }
            case Proc.CONNECT_IS_SECURE -> out.writeInt(1); // a local UNIX socket: nothing travels in the clear
            case Proc.CONNECT_GET_LIB_VERSION ->
                    out.writeHyper(Dispatcher.versionNumber(driver.managerInfo().version()));
            case Proc.CONNECT_GET_SYSINFO -> {
                flags(in.readInt(), 0, "virConnectGetSysinfo");
                out.writeString(host.sysinfoXml());
            }
            case Proc.NODE_GET_CPU_STATS -> {
                int cpu = in.readInt();
                int nparams = in.readInt();
                flags(in.readInt(), 0, "virNodeGetCPUStats");
                stats(nparams, REMOTE_NODE_CPU_STATS_MAX, () -> host.cpuStats(cpu), 4, out);
            }
            case Proc.NODE_GET_MEMORY_STATS -> {
                int nparams = in.readInt();
                int cell = in.readInt();
                flags(in.readInt(), 0, "virNodeGetMemoryStats");
                Map<String, Long> stats = host.memoryStats(cell);
                stats(nparams, REMOTE_NODE_MEMORY_STATS_MAX, () -> stats, stats.size(), out);
            }
            case Proc.NODE_GET_CPU_MAP -> {
                boolean needMap = in.readInt() != 0;
                boolean needOnline = in.readInt() != 0;
                flags(in.readInt(), 0, "virNodeGetCPUMap");
                cpuMap(host.cpuMap(), needMap, needOnline, out);
            }
            case Proc.CONNECT_GET_DOMAIN_CAPABILITIES -> {
                String emulator = in.readOptionalString();
                String arch = in.readOptionalString();
                String machine = in.readOptionalString();
                String virtType = in.readOptionalString();
                flags(in.readInt(), DOMCAPS_DISABLE_DEPRECATED, "virConnectGetDomainCapabilities");
                out.writeString(host.domainCapabilitiesXml(driver.managerInfo(), emulator, arch, machine, virtType));
            }
            default -> throw RpcException.noSupport("procedure " + proc);
        }
    }

    /** remote_node_get_info_ret: char model[32] (each char an XDR word), uhyper memory, six ints. */
    static void nodeInfo(NodeInfo n, XdrOut out) {
        byte[] model = n.model().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int i = 0; i < NODE_INFO_MODEL_CHARS; i++) {
            out.writeInt(i < Math.min(model.length, NODE_INFO_MODEL_CHARS - 1) ? model[i] : 0);
        }
        out.writeHyper(n.memoryKiB()).writeInt(n.cpus()).writeInt(n.mhz()).writeInt(n.nodes()).writeInt(n.sockets())
                .writeInt(n.cores()).writeInt(n.threads());
    }

    /** remote_node_get_cpu_map_ret: opaque cpumap<256> (bit i of byte i/8 = CPU i online), unsigned online, int ret. */
    static void cpuMap(CpuMap m, boolean needMap, boolean needOnline, XdrOut out) {
        int bytes = (m.present() + 7) / 8;
        if (bytes > REMOTE_CPUMAP_MAX) {
            throw new RpcException(RpcException.VIR_ERR_RPC, "the host's " + m.present()
                    + " CPUs do not fit in the protocol's CPU map of " + REMOTE_CPUMAP_MAX * 8);
        }
        if (needMap) {
            byte[] map = new byte[bytes];
            m.online().forEach(cpu -> map[cpu / 8] |= (byte) (1 << (cpu % 8)));
            out.writeInt(bytes).writeFixedOpaque(map);
        } else {
            out.writeInt(0);
        }
        out.writeInt(needOnline ? m.online().size() : 0).writeInt(m.present());
    }

    /**
     * A node statistics reply: with nparams 0 the client asks how many there are (an empty list and the count);
     * otherwise it must ask for exactly that many, as libvirt insists.
     */
    private static void stats(int nparams, int max, java.util.function.Supplier<Map<String, Long>> stats, int count,
                              XdrOut out) {
        if (nparams < 0 || nparams > max) {
            throw invalid("nparams " + nparams + " out of range (0-" + max + ")");
        }
        if (nparams == 0) {
            out.writeInt(0).writeInt(count);
            return;
        }
        if (nparams != count) {
            throw invalid("nparams must be " + count + ", not " + nparams);
        }
        Map<String, Long> values = stats.get();
        out.writeInt(values.size());
        values.forEach((field, value) -> out.writeString(field).writeHyper(value));
        out.writeInt(values.size());
    }

    /** char NAME<N>: the count, then each char (and the NUL libvirt's server sends) as an XDR word. */
    private static void chars(XdrOut out, String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(b.length + 1);
        for (byte c : b) {
            out.writeInt(c);
        }
        out.writeInt(0);
    }

    private static void flags(int flags, int allowed, String function) {
        if ((flags & ~allowed) != 0) {
            throw invalid("unsupported flags (0x" + Integer.toHexString(flags & ~allowed) + ") in function " + function);
        }
    }

    private static RpcException invalid(String message) {
        return new RpcException(ErrorCode.INVALID_ARG.libvirtCode(), "invalid argument: " + message);
    }
}
