package org.kvmtool.manager.rpc;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.HostService;
import org.kvmtool.manager.api.InterfaceStats;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.Operation;

/**
 * Decodes one REMOTE call, runs it on the driver, encodes the reply. Pure protocol translation: the
 * lifecycle semantics are the driver's. Unknown procedures answer NO_SUPPORT, which virsh turns into its
 * fallbacks (libvirt-rpc-facts.md, section 3).
 */
final class Dispatcher {
    static final int EVENT_ID_LIFECYCLE = 0;
    static final int CONNECT_RO = 1;
    static final int CONSOLE_FORCE = 1;
    /** virDomainMemoryModFlags: the maximum memory instead of the balloon target. */
    static final int MEM_MAXIMUM = 4;

    private final DomainDriver driver;
    private final Supplier<String> hostname;
    private final HostProcedures hostProcedures;

    Dispatcher(DomainDriver driver, HostService host, Supplier<String> hostname) {
        this.driver = driver;
        this.hostname = hostname;
        this.hostProcedures = new HostProcedures(host, driver);
    }

    /** Without host facts: the host procedures answer NO_SUPPORT (tests of the other procedures). */
    Dispatcher(DomainDriver driver, Supplier<String> hostname) {
        this(driver, null, hostname);
    }

    /** Returns the reply payload; throws RpcException for an error reply. */
    byte[] call(Session session, Packet call) {
        int proc = call.proc();
        if (!session.isOpen() && proc != Proc.CONNECT_OPEN && proc != Proc.AUTH_LIST
                && proc != Proc.CONNECT_SUPPORTS_FEATURE) {
            throw new RpcException(RpcException.VIR_ERR_RPC, "connection not open");
        }
        if (session.isReadOnly() && !Proc.isReadOnly(proc)) {
            // Nothing but read-only procedures runs here. A change is refused as such; anything else is simply
            // not supported, as on a read-write connection: virsh falls back on NO_SUPPORT (dominfo asks for the
            // security model and the messages) and fails on any other error.
            if (Proc.isChange(proc)) {
                throw new RpcException(RpcException.VIR_ERR_OPERATION_DENIED,
                        "operation forbidden: read only access prevents procedure " + proc);
            }
            throw RpcException.noSupport("procedure " + proc);
        }
        XdrIn in = call.body();
        XdrOut out = new XdrOut();
        try {
            handle(session, call, proc, in, out);
        } catch (KvmtoolException e) {
            throw RpcException.of(e);
        }
        return out.toByteArray();
    }

    private void handle(Session session, Packet call, int proc, XdrIn in, XdrOut out) {
        switch (proc) {
            case Proc.AUTH_LIST -> out.writeInt(1).writeInt(0); // [AUTH_NONE]: SO_PEERCRED decides
            case Proc.CONNECT_SUPPORTS_FEATURE -> out.writeBool(Features.supports(in.readInt()));
            case Proc.CONNECT_OPEN -> {
                String name = in.readOptionalString();
                int flags = in.readInt();
                checkUri(name);
                session.opened((flags & CONNECT_RO) != 0);
            }
            case Proc.CONNECT_CLOSE -> {
                // The connection closes the socket once the reply is out.
            }
            case Proc.CONNECT_GET_TYPE -> out.writeString("KVMTOOL");
            case Proc.CONNECT_GET_VERSION -> out.writeHyper(versionNumber(driver.managerInfo().hypervisor().version()));
            case Proc.CONNECT_GET_HOSTNAME -> out.writeString(hostname.get());
            case Proc.CONNECT_GET_URI -> out.writeString(driver.managerInfo().uri());
            case Proc.CONNECT_LIST_ALL_DOMAINS -> listAll(in, out);
            case Proc.CONNECT_NUM_OF_DOMAINS -> out.writeInt((int) driver.list().stream().filter(DomainInfo::isActive).count());
            case Proc.CONNECT_LIST_DOMAINS -> {
                int max = in.readCount(ProtocolLimits.DOMAIN_LIST_MAX, "maxids");
                List<DomainInfo> active = driver.list().stream().filter(DomainInfo::isActive).limit(Math.max(0, max)).toList();
                out.writeInt(active.size());
                active.forEach(d -> out.writeInt(d.id()));
            }
            case Proc.CONNECT_NUM_OF_DEFINED_DOMAINS -> out.writeInt((int) driver.list().stream().filter(d -> !d.isActive()).count());
            case Proc.CONNECT_LIST_DEFINED_DOMAINS -> {
                int max = in.readCount(ProtocolLimits.DOMAIN_LIST_MAX, "maxnames");
                List<DomainInfo> inactive = driver.list().stream().filter(d -> !d.isActive()).limit(Math.max(0, max)).toList();
                out.writeInt(inactive.size());
                inactive.forEach(d -> out.writeString(d.name()));
            }
            case Proc.DOMAIN_LOOKUP_BY_NAME -> {
                String name = in.readString();
                writeDomain(out, found(driver.lookup(name), "no domain with matching name '" + name + "'"));
            }
            case Proc.DOMAIN_LOOKUP_BY_UUID -> {
                UUID uuid = uuid(in.readFixedOpaque(16));
                writeDomain(out, found(driver.lookupByUuid(uuid), "no domain with matching uuid '" + uuid + "'"));
            }
            case Proc.DOMAIN_LOOKUP_BY_ID -> {
                int id = in.readInt();
                writeDomain(out, found(driver.lookupById(id), "no domain with matching id " + id));
            }
            case Proc.DOMAIN_GET_STATE -> {
                DomainInfo d = domainBody(in);
                out.writeInt(d.state().libvirtCode()).writeInt(d.reason().libvirtCode());
            }
            case Proc.DOMAIN_GET_INFO -> {
                DomainInfo d = domainBody(in);
                CgroupStats s = driver.stats(d.name());
                // unsigned char and unsigned short each take a whole XDR word (libvirt-rpc-facts.md, section 10)
                out.writeInt(d.state().libvirtCode()).writeHyper(d.maxMemoryBytes() >> 10)
                        .writeHyper(d.currentMemoryBytes() >> 10).writeInt(d.vcpus()).writeHyper(s.cpuTimeNanos());
            }
            case Proc.DOMAIN_GET_MAX_MEMORY -> out.writeHyper(domainBody(in).maxMemoryBytes() >> 10);
            case Proc.DOMAIN_INTERFACE_STATS -> {
                String name = domainBody(in).name();
                String device = in.readString();
                // as libvirt's virDomainNetFind: the tap's name or the guest's MAC address
                InterfaceStats s = driver.interfaceStats(name).stream()
                        .filter(i -> i.device().equals(device) || device.equalsIgnoreCase(i.mac())).findFirst()
                        .orElseThrow(() -> new KvmtoolException(ErrorCode.INVALID_ARG,
                                "invalid path, '" + device + "' is not a known interface"));
                out.writeHyper(s.rxBytes()).writeHyper(s.rxPackets()).writeHyper(s.rxErrs()).writeHyper(s.rxDrop())
                        .writeHyper(s.txBytes()).writeHyper(s.txPackets()).writeHyper(s.txErrs()).writeHyper(s.txDrop());
            }
            case Proc.DOMAIN_GET_OS_TYPE -> {
                domainBody(in);
                out.writeString("hvm");
            }
            case Proc.DOMAIN_IS_ACTIVE -> out.writeBool(domainBody(in).isActive());
            case Proc.DOMAIN_IS_PERSISTENT -> out.writeBool(domainBody(in).persistent());
            case Proc.DOMAIN_GET_AUTOSTART -> out.writeBool(domainBody(in).autostart());
            case Proc.DOMAIN_HAS_MANAGED_SAVE_IMAGE, Proc.DOMAIN_SNAPSHOT_NUM -> {
                domainBody(in);
                out.writeInt(0); // kvmtool has neither saved images nor snapshots
            }
            case Proc.DOMAIN_GET_XML_DESC -> out.writeString(driver.dumpXml(domainBody(in).name()));
            case Proc.DOMAIN_DEFINE_XML, Proc.DOMAIN_DEFINE_XML_FLAGS -> {
                String name = driver.define(in.readString());
                writeDomain(out, lookup(name));
            }
            case Proc.DOMAIN_CREATE_XML -> {
                String name = driver.create(in.readString());
                writeDomain(out, lookup(name));
            }
            case Proc.DOMAIN_CREATE -> driver.start(domainBody(in).name());
            case Proc.DOMAIN_CREATE_WITH_FLAGS -> {
                String name = domainBody(in).name();
                int flags = in.readInt();
                if ((flags & 1) != 0) { // VIR_DOMAIN_START_PAUSED
                    driver.startPaused(name);
                } else {
                    driver.start(name);
                }
                writeDomain(out, lookup(name));
            }
            case Proc.DOMAIN_DESTROY, Proc.DOMAIN_DESTROY_FLAGS -> driver.destroy(domainBody(in).name());
            case Proc.DOMAIN_SHUTDOWN, Proc.DOMAIN_SHUTDOWN_FLAGS -> driver.shutdown(domainBody(in).name());
            case Proc.DOMAIN_REBOOT -> driver.reboot(domainBody(in).name());
            case Proc.DOMAIN_SUSPEND -> driver.suspend(domainBody(in).name());
            case Proc.DOMAIN_RESUME -> driver.resume(domainBody(in).name());
            case Proc.DOMAIN_UNDEFINE, Proc.DOMAIN_UNDEFINE_FLAGS -> driver.undefine(domainBody(in).name());
            case Proc.DOMAIN_SET_AUTOSTART -> {
                String name = domainBody(in).name();
                driver.setAutostart(name, in.readBool());
            }
            case Proc.DOMAIN_SET_MEMORY -> {
                String name = domainBody(in).name();
                driver.setMemory(name, Math.multiplyExact(in.readHyper(), 1024L));
            }
            case Proc.DOMAIN_SET_MEMORY_FLAGS -> {
                String name = domainBody(in).name();
                long kib = in.readHyper();
                // virsh setmaxmem comes here too, flagged VIR_DOMAIN_MEM_MAXIMUM: not the balloon target
                if ((in.readInt() & MEM_MAXIMUM) != 0) {
                    throw RpcException.noSupport("changing the maximum memory (edit <memory> and define again)");
                }
                driver.setMemory(name, Math.multiplyExact(kib, 1024L));
            }
            case Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY -> {
                int eventId = in.readInt();
                DomainInfo only = in.readInt() == 0 ? null : domainBody(in);
                if (eventId != EVENT_ID_LIFECYCLE) {
                    throw RpcException.noSupport("event " + eventId);
                }
                out.writeInt(session.registerLifecycle(only, false));
            }
            case Proc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY -> session.deregister(in.readInt());
            case Proc.CONNECT_DOMAIN_EVENT_REGISTER_ANY -> {
                if (in.readInt() != EVENT_ID_LIFECYCLE) {
                    throw RpcException.noSupport("event");
                }
                session.registerLifecycle(null, true);
            }
            case Proc.CONNECT_DOMAIN_EVENT_DEREGISTER_ANY -> session.deregisterLegacy();
            case Proc.DOMAIN_OPEN_CONSOLE -> {
                DomainInfo d = domainBody(in);
                String dev = in.readOptionalString();
                int flags = in.readInt();
                if (dev != null && !dev.isEmpty() && !dev.equals("console0") && !dev.equals("serial0")) {
                    throw new RpcException(ErrorCode.OPERATION_INVALID.libvirtCode(), "cannot find console device '" + dev + "'");
                }
                // refused before any stream is set up, by the driver's own table (which the driver checks again)
                Operation.CONSOLE.check(d.state(), d.persistent(), d.name());
                session.openConsole(call, d.name(), (flags & CONSOLE_FORCE) != 0);
            }
            case Proc.CONNECT_GET_MAX_VCPUS, Proc.NODE_GET_INFO, Proc.CONNECT_GET_CAPABILITIES,
                    Proc.NODE_GET_CELLS_FREE_MEMORY, Proc.NODE_GET_FREE_MEMORY, Proc.NODE_GET_SECURITY_MODEL,
                    Proc.CONNECT_IS_SECURE, Proc.CONNECT_GET_LIB_VERSION, Proc.CONNECT_GET_SYSINFO,
                    Proc.NODE_GET_CPU_STATS, Proc.NODE_GET_MEMORY_STATS, Proc.NODE_GET_CPU_MAP,
                    Proc.CONNECT_GET_DOMAIN_CAPABILITIES -> hostProcedures.handle(proc, in, out);
            default -> throw RpcException.noSupport("procedure " + proc);
        }
    }

    /** kvmtool only: a client asking for another driver's URI reached the wrong daemon. */
    static void checkUri(String name) {
        if (name == null || name.isEmpty()) {
            return;
        }
        if (!(name.startsWith("kvmtool:///") || name.startsWith("kvmtool+unix:///"))) {
            throw new RpcException(RpcException.VIR_ERR_NO_CONNECT,
                    "no connection driver available for " + name + " (this daemon serves kvmtool:///system and kvmtool:///session)");
        }
    }

    /** "3.18.0" -> 3018000, libvirt's major * 1,000,000 + minor * 1,000 + micro. */
    static long versionNumber(String version) {
        if (version == null) {
            return 0;
        }
        long n = 0;
        String[] parts = version.split("[^0-9]+");
        for (int i = 0; i < 3; i++) {
            n = n * 1000 + (i < parts.length && !parts[i].isEmpty() ? Math.min(999, Long.parseLong(parts[i])) : 0);
        }
        return n;
    }

    private void listAll(XdrIn in, XdrOut out) {
        int needResults = in.readInt();
        int flags = in.readInt();
        List<DomainInfo> all = driver.list().stream().filter(d -> matches(d, flags)).toList();
        if (needResults != 0) {
            out.writeInt(all.size());
            all.forEach(d -> writeDomain(out, d));
        } else {
            out.writeInt(0);
        }
        out.writeInt(all.size());
    }

    /** VIR_CONNECT_LIST_DOMAINS_ACTIVE = 1, INACTIVE = 2, PERSISTENT = 4, TRANSIENT = 8; no flag = all. */
    static boolean matches(DomainInfo d, int flags) {
        boolean ok = true;
        if ((flags & 3) != 0) {
            ok = (flags & 1) != 0 && d.isActive() || (flags & 2) != 0 && !d.isActive();
        }
        if ((flags & 12) != 0) {
            ok &= (flags & 4) != 0 && d.persistent() || (flags & 8) != 0 && !d.persistent();
        }
        return ok;
    }

    /** remote_nonnull_domain: name, uuid as opaque[16], id (-1 when inactive: virsh checks it). */
    static void writeDomain(XdrOut out, DomainInfo d) {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.putLong(d.uuid().getMostSignificantBits()).putLong(d.uuid().getLeastSignificantBits());
        out.writeString(d.name()).writeFixedOpaque(b.array()).writeInt(d.isActive() ? d.id() : -1);
    }

    /** Reads a remote_nonnull_domain and finds it by uuid, else by name (the name may have been reused). */
    private DomainInfo domainBody(XdrIn in) {
        String name = in.readString();
        UUID uuid = uuid(in.readFixedOpaque(16));
        in.readInt(); // id: informational
        return driver.lookupByUuid(uuid).or(() -> driver.lookup(name))
                .orElseThrow(() -> new RpcException(ErrorCode.NO_DOMAIN.libvirtCode(),
                        "Domain not found: no domain with matching uuid '" + uuid + "' (" + name + ")"));
    }

    private DomainInfo lookup(String name) {
        return found(driver.lookup(name), "no domain with matching name '" + name + "'");
    }

    private static DomainInfo found(Optional<DomainInfo> d, String message) {
        return d.orElseThrow(() -> new RpcException(ErrorCode.NO_DOMAIN.libvirtCode(), "Domain not found: " + message));
    }

    static UUID uuid(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b);
        return new UUID(buf.getLong(), buf.getLong());
    }
}
