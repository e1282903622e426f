package org.kvmtool.manager.xml;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDefinition.LifecycleAction;
import org.kvmtool.manager.api.DomainDefinition.OsSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Bound XML -> model, element by element: required parts, enumerations, numbers and units. What
 * libvirt accepts but kvmtool cannot do is CONFIG_UNSUPPORTED, anything else wrong XML_ERROR. Semantic
 * rules that hold for definitions however they were made (name, absolute paths, memory bounds) are
 * {@link DomainValidator}'s.
 */
final class DomainReader {
    static final String DOMAIN_TYPE = "kvmtool";
    static final String ARCH = "x86_64";
    private static final Pattern UUID_TEXT = Pattern.compile(
            "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}");
    private static final Set<String> OS_TYPES = Set.of("xen", "xenpvh", "linux", "exe", "uml");
    private static final Set<String> BOOT_DEVS = Set.of("fd", "cdrom", "network");
    private static final Set<String> CLOCK_OFFSETS = Set.of("localtime", "timezone", "variable", "absolute");
    private static final Set<String> LIFECYCLE_OTHERS = Set.of("preserve", "rename-restart", "coredump-destroy", "coredump-restart");
    static final int MAX_VCPUS = 4096;
    static final long MAX_SHARES = 262_144;

    private final ReadContext cx;
    private final Supplier<UUID> uuids;

    DomainReader(ReadContext cx, Supplier<UUID> uuids) {
        this.cx = cx;
        this.uuids = uuids;
    }

    DomainDefinition read(DomainXml.Domain d) {
        Pos root = cx.pos(d);
        if (d.type == null) {
            throw Problems.missing(root.attribute("type"), "give type='" + DOMAIN_TYPE + "'");
        }
        if (!DOMAIN_TYPE.equals(d.type)) {
            throw Problems.invalid(root.attribute("type"), d.type, "accepted domain types: " + DOMAIN_TYPE);
        }
        if (d.name == null) {
            throw Problems.missing(cx.child(d, "name"), "a domain needs a name");
        }
        cx.place("/domain/name", cx.pos(d.name));
        String name = ReadContext.text(d.name);
        UUID uuid = d.uuid == null ? uuids.get() : uuid(d.uuid);
        String title = emptyToNull(d.title, "/domain/title");
        String description = emptyToNull(d.description, "/domain/description");

        if (d.memory == null) {
            throw Problems.missing(cx.child(d, "memory"), "a domain needs <memory>");
        }
        cx.place("/domain/memory", cx.pos(d.memory));
        long memory = Units.bytes(d.memory.value, d.memory.unit, cx.pos(d.memory));
        long current = memory;
        if (d.currentMemory != null) {
            cx.place("/domain/currentMemory", cx.pos(d.currentMemory));
            current = Units.bytes(d.currentMemory.value, d.currentMemory.unit, cx.pos(d.currentMemory));
        }
        int vcpus = vcpus(d.vcpu);
        Long shares = null;
        if (d.cputune != null && d.cputune.shares != null) {
            Pos p = cx.pos(d.cputune.shares);
            cx.place("/domain/cputune/shares", p);
            shares = ReadContext.number(d.cputune.shares.value, p, MAX_SHARES);
        }
        Long hardLimit = null;
        if (d.memtune != null && d.memtune.hardLimit != null) {
            Pos p = cx.pos(d.memtune.hardLimit);
            cx.place("/domain/memtune/hard_limit", p);
            long bytes = Units.bytes(d.memtune.hardLimit.value, d.memtune.hardLimit.unit, p);
            hardLimit = bytes == Units.MAX_BYTES ? null : bytes; // libvirt's "unlimited"
        }
        OsSpec os = os(d);
        clock(d.clock);
        LifecycleAction onPoweroff = lifecycle(d.onPoweroff, LifecycleAction.DESTROY);
        LifecycleAction onReboot = lifecycle(d.onReboot, LifecycleAction.RESTART);
        LifecycleAction onCrash = lifecycle(d.onCrash, LifecycleAction.DESTROY);
        boolean hugepages = hugepages(d.memoryBacking);
        DevicesReader.Result devices = new DevicesReader(cx, uuid).read(d);
        return new DomainDefinition(name, uuid, title, description, memory, current, vcpus, os, devices.emulator(),
                onPoweroff, onReboot, onCrash, shares, hardLimit, devices.devices(), hugepages);
    }

    /** {@code <memoryBacking><hugepages/></memoryBacking>}: its other children are refused while reading. */
    private boolean hugepages(DomainXml.MemoryBacking m) {
        if (m == null) {
            return false;
        }
        cx.place("/domain/memoryBacking", cx.pos(m));
        if (m.hugepages == null) {
            return false;
        }
        cx.place("/domain/memoryBacking/hugepages", cx.pos(m.hugepages));
        return true;
    }

    private UUID uuid(DomainXml.Text t) {
        String s = ReadContext.text(t).trim();
        Pos p = cx.pos(t);
        if (!UUID_TEXT.matcher(s).matches() || s.contains("-") && s.length() != 36) {
            throw Problems.invalid(p, s, "a UUID is 32 hex digits, as in 4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
        }
        String hex = s.replace("-", "");
        return UUID.fromString(hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
                + hex.substring(16, 20) + "-" + hex.substring(20));
    }

    private String emptyToNull(DomainXml.Text t, String key) {
        if (t == null) {
            return null;
        }
        cx.place(key, cx.pos(t));
        String s = ReadContext.text(t);
        return s.isEmpty() ? null : s;
    }

    private int vcpus(DomainXml.Vcpu v) {
        if (v == null) {
            return 1;
        }
        Pos p = cx.pos(v);
        cx.place("/domain/vcpu", p);
        if (v.placement != null && !"static".equals(v.placement)) {
            if ("auto".equals(v.placement)) {
                throw Problems.unsupportedValue(p.attribute("placement"), v.placement, "kvmtool has no vCPU placement");
            }
            throw Problems.invalid(p.attribute("placement"), v.placement, "accepted: static");
        }
        return (int) ReadContext.number(v.value, p, MAX_VCPUS);
    }

    private OsSpec os(DomainXml.Domain d) {
        DomainXml.Os os = d.os;
        if (os == null) {
            throw Problems.missing(cx.child(d, "os"), "kvmtool boots a kernel directly: give <os> with <kernel>");
        }
        String arch = ARCH;
        if (os.type != null) {
            Pos p = cx.pos(os.type);
            String type = ReadContext.text(os.type).trim();
            if (OS_TYPES.contains(type)) {
                throw Problems.unsupportedValue(p, type, "kvmtool runs hardware-virtualized guests: os type 'hvm'");
            }
            if (!"hvm".equals(type)) {
                throw Problems.invalid(p, type, "accepted os type: hvm");
            }
            if (os.type.arch != null) {
                cx.place("/domain/os/type/@arch", p.attribute("arch"));
                arch = os.type.arch;
            }
            // machine='...' names a QEMU machine type; kvmtool has a single machine, so any value means it.
        }
        if (os.kernel == null) {
            throw Problems.missing(cx.child(os, "kernel"), "kvmtool boots a kernel directly: give <kernel>");
        }
        cx.place("/domain/os/kernel", cx.pos(os.kernel));
        String kernel = ReadContext.text(os.kernel);
        String initrd = null;
        if (os.initrd != null) {
            cx.place("/domain/os/initrd", cx.pos(os.initrd));
            initrd = ReadContext.text(os.initrd);
        }
        String cmdline = null;
        if (os.cmdline != null) {
            cx.place("/domain/os/cmdline", cx.pos(os.cmdline));
            cmdline = ReadContext.text(os.cmdline);
            cmdline = cmdline.isEmpty() ? null : cmdline;
        }
        List<String> boot = new ArrayList<>();
        for (int i = 0; i < os.boot.size(); i++) {
            DomainXml.Boot b = os.boot.get(i);
            Pos p = cx.pos(b).attribute("dev");
            if (b.dev == null) {
                throw Problems.missing(p, "give dev='hd'");
            }
            if (BOOT_DEVS.contains(b.dev)) {
                throw Problems.unsupportedValue(p, b.dev, "kvmtool boots the <kernel> given; only dev='hd' is accepted");
            }
            if (!"hd".equals(b.dev)) {
                throw Problems.invalid(p, b.dev, "accepted: hd");
            }
            cx.place("/domain/os/boot[" + (i + 1) + "]/@dev", p);
            boot.add(b.dev);
        }
        return new OsSpec(arch, kernel, initrd, cmdline, boot);
    }

    private void clock(DomainXml.Clock c) {
        if (c == null || c.offset == null || "utc".equals(c.offset)) {
            return;
        }
        Pos p = cx.pos(c).attribute("offset");
        if (CLOCK_OFFSETS.contains(c.offset)) {
            throw Problems.unsupportedValue(p, c.offset, "kvmtool's guest clock is the host's UTC clock: offset='utc'");
        }
        throw Problems.invalid(p, c.offset, "accepted: utc");
    }

    private LifecycleAction lifecycle(DomainXml.Text t, LifecycleAction dflt) {
        if (t == null) {
            return dflt;
        }
        String v = ReadContext.text(t).trim();
        Pos p = cx.pos(t);
        switch (v) {
            case "destroy":
                return LifecycleAction.DESTROY;
            case "restart":
                return LifecycleAction.RESTART;
            default:
                if (LIFECYCLE_OTHERS.contains(v)) {
                    throw Problems.unsupportedValue(p, v, "kvmtool-manager can only destroy or restart a domain");
                }
                throw Problems.invalid(p, v, "accepted: destroy, restart");
        }
    }
}
