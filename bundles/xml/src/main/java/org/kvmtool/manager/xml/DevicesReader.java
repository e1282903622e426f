package org.kvmtool.manager.xml;

import org.kvmtool.manager.api.DomainDefinition.Console;
import org.kvmtool.manager.api.DomainDefinition.ConsoleType;
import org.kvmtool.manager.api.DomainDefinition.Devices;
import org.kvmtool.manager.api.DomainDefinition.Disk;
import org.kvmtool.manager.api.DomainDefinition.Filesystem;
import org.kvmtool.manager.api.DomainDefinition.NetInterface;
import org.kvmtool.manager.api.DomainDefinition.NetType;
import org.kvmtool.manager.api.DomainDefinition.Vsock;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/** Bound {@code <devices>} -> model devices; see {@link DomainReader} for the split of duties. */
final class DevicesReader {
    private static final Set<String> DISK_TYPES = Set.of("block", "dir", "network", "volume", "nvme", "vhostuser", "vhostvdpa");
    private static final Set<String> DISK_DEVICES = Set.of("cdrom", "floppy", "lun");
    private static final Set<String> DISK_BUSES = Set.of("ide", "scsi", "sata", "usb", "xen", "sd", "fdc", "uml");
    private static final Set<String> DRIVER_NAMES = Set.of("kvmtool", "qemu");
    private static final Set<String> CONTROLLER_TYPES = Set.of("ide", "fdc", "scsi", "sata", "usb", "ccid", "pci", "xenbus", "isa");
    private static final Set<String> FS_TYPES = Set.of("block", "file", "template", "ram", "bind", "volume");
    private static final Set<String> FS_MODES = Set.of("mapped", "squash");
    private static final Set<String> CHR_TYPES = Set.of("null", "vc", "file", "dev", "pipe", "stdio", "udp", "tcp",
            "unix", "spicevmc", "spiceport", "nmdm", "qemu-vdagent", "dbus");
    private static final Set<String> CONSOLE_TARGETS = Set.of("xen", "uml", "sclp", "sclplm", "lxc", "openvz");
    private static final Set<String> SERIAL_TARGETS = Set.of("usb-serial", "pci-serial", "spapr-vio-serial",
            "system-serial", "sclp-serial", "isa-debug");
    private static final Set<String> NET_TYPES = Set.of("direct", "hostdev", "vhostuser", "server",
            "client", "mcast", "udp", "internal", "vdpa", "null", "vds");
    private static final Pattern MAC = Pattern.compile("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}");

    private static final Set<String> VSOCK_MODELS = Set.of("virtio-transitional", "virtio-non-transitional");

    record Result(String emulator, Devices devices) {
    }

    private final ReadContext cx;
    private final UUID uuid;

    /** @param uuid the domain's, from which the MAC addresses of interfaces without one are made */
    DevicesReader(ReadContext cx, UUID uuid) {
        this.cx = cx;
        this.uuid = uuid;
    }

    Result read(DomainXml.Domain d) {
        DomainXml.Devices dev = d.devices;
        if (dev == null) {
            // libvirt's defaults for a domain without devices: a serial console and a virtio balloon.
            return new Result(null, new Devices(List.of(), List.of(), new Console(ConsoleType.SERIAL), true, List.of(), false));
        }
        String emulator = null;
        if (dev.emulator != null) {
            cx.place(Paths.DEVICES + "/emulator", cx.pos(dev.emulator));
            emulator = ReadContext.text(dev.emulator);
        }
        List<Disk> disks = new ArrayList<>();
        for (int i = 0; i < dev.disk.size(); i++) {
            disks.add(disk(dev.disk.get(i), i));
        }
        List<Filesystem> filesystems = new ArrayList<>();
        for (int i = 0; i < dev.filesystem.size(); i++) {
            filesystems.add(filesystem(dev.filesystem.get(i), i));
        }
        List<NetInterface> nics = new ArrayList<>();
        for (int i = 0; i < dev.iface.size(); i++) {
            nics.add(nic(dev.iface.get(i), i));
        }
        Console console = console(dev);
        for (DomainXml.Controller c : dev.controller) {
            controller(c);
        }
        return new Result(emulator, new Devices(disks, filesystems, console, balloon(dev), withMacs(nics, uuid), rng(dev),
                vsock(dev)));
    }

    private Disk disk(DomainXml.Disk x, int i) {
        Pos p = cx.pos(x);
        String key = Paths.device("disk", i);
        cx.place(key, p);
        if (x.type != null && !"file".equals(x.type)) {
            throw DISK_TYPES.contains(x.type)
                    ? Problems.unsupportedValue(p.attribute("type"), x.type, "kvmtool-manager passes disk image files: type='file'")
                    : Problems.invalid(p.attribute("type"), x.type, "accepted: file");
        }
        if (x.device != null && !"disk".equals(x.device)) {
            throw DISK_DEVICES.contains(x.device)
                    ? Problems.unsupportedValue(p.attribute("device"), x.device, "kvmtool only has virtio block disks: device='disk'")
                    : Problems.invalid(p.attribute("device"), x.device, "accepted: disk");
        }
        boolean direct = false;
        if (x.driver != null) {
            Pos dp = cx.pos(x.driver);
            if (x.driver.name != null && !DRIVER_NAMES.contains(x.driver.name)) {
                throw Problems.unsupportedValue(dp.attribute("name"), x.driver.name, "kvmtool's own disk backend is 'kvmtool'");
            }
            if (x.driver.type != null && !"raw".equals(x.driver.type)) {
                throw Problems.unsupportedValue(dp.attribute("type"), x.driver.type, "kvmtool-manager passes raw images: type='raw'");
            }
            direct = cache(x.driver.cache, dp.attribute("cache"));
        }
        if (x.source == null) {
            throw Problems.missing(cx.child(x, "source"), "a disk needs <source file='...'/>");
        }
        Pos sp = cx.pos(x.source).attribute("file");
        if (x.source.file == null) {
            throw Problems.missing(sp, "a disk needs <source file='...'/>");
        }
        cx.place(key + "/source/@file", sp);
        if (x.target == null) {
            throw Problems.missing(cx.child(x, "target"), "a disk needs <target dev='vdX' bus='virtio'/>");
        }
        Pos tp = cx.pos(x.target);
        if (x.target.dev == null) {
            throw Problems.missing(tp.attribute("dev"), "a disk needs <target dev='vdX'/>");
        }
        cx.place(key + "/target/@dev", tp.attribute("dev"));
        if (x.target.bus != null && !"virtio".equals(x.target.bus)) {
            throw DISK_BUSES.contains(x.target.bus)
                    ? Problems.unsupportedValue(tp.attribute("bus"), x.target.bus, "kvmtool only has virtio disks: bus='virtio'")
                    : Problems.invalid(tp.attribute("bus"), x.target.bus, "accepted: virtio");
        }
        return new Disk(x.source.file, x.target.dev, x.readonly != null, direct);
    }

    /** cache='none' and 'directsync' open the image with O_DIRECT: kvmtool's ',direct'. */
    private static boolean cache(String cache, Pos p) {
        if (cache == null) {
            return false;
        }
        return switch (cache) {
            case "none", "directsync" -> true;
            case "default", "writeback" -> false;
            case "writethrough", "unsafe" -> throw Problems.unsupportedValue(p, cache,
                    "kvmtool caches disks in the host (writeback) or not at all (none)");
            default -> throw Problems.invalid(p, cache, "accepted: default, writeback, none, directsync");
        };
    }

    private void controller(DomainXml.Controller c) {
        Pos p = cx.pos(c);
        if (c.type == null) {
            throw Problems.missing(p.attribute("type"), "give the controller's type");
        }
        if (!"virtio-serial".equals(c.type)) {
            throw CONTROLLER_TYPES.contains(c.type)
                    ? Problems.unsupportedValue(p.attribute("type"), c.type, "kvmtool has only virtio devices and no controllers to configure")
                    : Problems.invalid(p.attribute("type"), c.type, "accepted: virtio-serial");
        }
        // The virtio-serial bus of a virtio console is implied in kvmtool: index 0 means it, any other is a second bus.
        if (c.index != null && !"0".equals(c.index.trim())) {
            throw Problems.unsupportedValue(p.attribute("index"), c.index, "kvmtool has one virtio console bus: index='0'");
        }
    }

    private Filesystem filesystem(DomainXml.Filesystem x, int i) {
        Pos p = cx.pos(x);
        String key = Paths.device("filesystem", i);
        cx.place(key, p);
        if (x.type != null && !"mount".equals(x.type)) {
            throw FS_TYPES.contains(x.type)
                    ? Problems.unsupportedValue(p.attribute("type"), x.type, "kvmtool shares host directories over 9p: type='mount'")
                    : Problems.invalid(p.attribute("type"), x.type, "accepted: mount");
        }
        if (x.accessmode != null && !"passthrough".equals(x.accessmode)) {
            throw FS_MODES.contains(x.accessmode)
                    ? Problems.unsupportedValue(p.attribute("accessmode"), x.accessmode, "kvmtool's 9p server passes access through: accessmode='passthrough'")
                    : Problems.invalid(p.attribute("accessmode"), x.accessmode, "accepted: passthrough");
        }
        if (x.source == null || x.source.dir == null) {
            Pos sp = x.source == null ? cx.child(x, "source") : cx.pos(x.source).attribute("dir");
            throw Problems.missing(sp, "a filesystem needs <source dir='...'/>");
        }
        cx.place(key + "/source/@dir", cx.pos(x.source).attribute("dir"));
        if (x.target == null || x.target.dir == null) {
            Pos tp = x.target == null ? cx.child(x, "target") : cx.pos(x.target).attribute("dir");
            throw Problems.missing(tp, "a filesystem needs <target dir='TAG'/> (the 9p mount tag)");
        }
        cx.place(key + "/target/@dir", cx.pos(x.target).attribute("dir"));
        return new Filesystem(x.source.dir, x.target.dir);
    }

    private NetInterface nic(DomainXml.Interface x, int i) {
        Pos p = cx.pos(x);
        String key = Paths.device("interface", i);
        cx.place(key, p);
        if (x.type == null) {
            throw Problems.missing(p.attribute("type"), "give type='bridge', type='ethernet' or type='user'");
        }
        NetType type = switch (x.type) {
            case "bridge" -> NetType.BRIDGE;
            case "ethernet" -> NetType.ETHERNET;
            case "user" -> NetType.USER;
            case "network" -> throw Problems.unsupportedValue(p.attribute("type"), x.type,
                    "libvirt networks are not managed here; use <interface type='bridge'>");
            default -> throw NET_TYPES.contains(x.type)
                    ? Problems.unsupportedValue(p.attribute("type"), x.type, "kvmtool-manager connects a guest to a bridge "
                            + "(type='bridge'), a tap (type='ethernet') or user-mode networking (type='user')")
                    : Problems.invalid(p.attribute("type"), x.type, "accepted: bridge, ethernet, user");
        };
        String bridge = null;
        if (type == NetType.BRIDGE) {
            String why = "a bridge interface names its bridge: <source bridge='br0'/>";
            if (x.source == null) {
                throw Problems.missing(cx.child(x, "source"), why);
            }
            Pos sp = cx.pos(x.source).attribute("bridge");
            if (x.source.bridge == null) {
                throw Problems.missing(sp, why);
            }
            cx.place(key + "/source/@bridge", sp);
            bridge = x.source.bridge;
        } else if (x.source != null) {
            throw Problems.unsupported(cx.pos(x.source), type == NetType.USER ? "user-mode networking has no source"
                    : "a type='ethernet' interface has no source: its tap is <target dev='...'/>");
        }
        String tap = null;
        boolean managed = type != NetType.USER;
        if (x.target != null) {
            Pos tp = cx.pos(x.target);
            if (type == NetType.USER) {
                throw Problems.unsupported(tp, "user-mode networking has no host device");
            }
            if (x.target.managed != null) {
                switch (x.target.managed) {
                    case "yes" -> managed = true;
                    case "no" -> {
                        if (type == NetType.BRIDGE) {
                            throw Problems.unsupportedValue(tp.attribute("managed"), x.target.managed, "kvmtool-manager makes "
                                    + "a bridge interface's tap; an existing tap is <interface type='ethernet'> with managed='no'");
                        }
                        managed = false;
                    }
                    default -> throw Problems.invalid(tp.attribute("managed"), x.target.managed, "accepted: yes, no");
                }
            }
            if (x.target.dev != null) {
                cx.place(key + "/target/@dev", tp.attribute("dev"));
                tap = x.target.dev;
            } else if (!managed) {
                throw Problems.missing(tp.attribute("dev"), "managed='no' uses an existing tap: name it with <target dev='...'/>");
            }
        }
        String mac = null;
        if (x.mac != null) {
            Pos mp = cx.pos(x.mac).attribute("address");
            if (x.mac.address == null) {
                throw Problems.missing(mp, "give address='52:54:00:xx:xx:xx'");
            }
            if (!MAC.matcher(x.mac.address).matches()) {
                throw Problems.invalid(mp, x.mac.address, "a MAC address is six hex pairs separated by ':'");
            }
            cx.place(key + "/mac/@address", mp);
            mac = x.mac.address.toLowerCase(Locale.ROOT);
        }
        if (x.model != null) {
            Pos mp = cx.pos(x.model).attribute("type");
            if (x.model.type == null) {
                throw Problems.missing(mp, "give type='virtio'");
            }
            if (!"virtio".equals(x.model.type)) {
                throw Problems.unsupportedValue(mp, x.model.type, "kvmtool only has virtio network cards: type='virtio'");
            }
        }
        return new NetInterface(type, tap, mac, bridge, managed);
    }

    /**
     * Interfaces without {@code <mac>} get one, as libvirt gives them, in its 52:54:00 range: kvmtool would
     * otherwise give every guest the same address (02:15:15:15:15:15), and two guests on one bridge would
     * collide. It is derived from the domain's uuid and the interface's place, so the same definition always has
     * the same address (a definition file written before this rule keeps one across restarts), and it differs
     * from the other interfaces' addresses.
     */
    static List<NetInterface> withMacs(List<NetInterface> nics, UUID uuid) {
        Set<String> taken = new HashSet<>();
        nics.stream().map(NetInterface::mac).filter(m -> m != null).forEach(taken::add);
        List<NetInterface> out = new ArrayList<>();
        for (int i = 0; i < nics.size(); i++) {
            NetInterface n = nics.get(i);
            if (n.mac() != null) {
                out.add(n);
                continue;
            }
            String mac = generatedMac(uuid, i, taken);
            taken.add(mac);
            out.add(new NetInterface(n.type(), n.tapDevice(), mac, n.bridge(), n.managed()));
        }
        return out;
    }

    private static String generatedMac(UUID uuid, int index, Set<String> taken) {
        for (int attempt = 0; ; attempt++) {
            byte[] h = sha256(ByteBuffer.allocate(24).putLong(uuid.getMostSignificantBits())
                    .putLong(uuid.getLeastSignificantBits()).putInt(index).putInt(attempt).array());
            String mac = String.format(Locale.ROOT, "52:54:00:%02x:%02x:%02x", h[0] & 0xff, h[1] & 0xff, h[2] & 0xff);
            if (!taken.contains(mac)) {
                return mac;
            }
        }
    }

    private static byte[] sha256(byte[] in) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(in);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** {@code <vsock>}: no {@code <cid>}, or one without address or auto, means auto='yes'. */
    private Vsock vsock(DomainXml.Devices dev) {
        DomainXml.Vsock v = dev.vsock;
        if (v == null) {
            return null;
        }
        Pos p = cx.pos(v);
        cx.place(Paths.DEVICES + "/vsock", p);
        if (v.model == null) {
            throw Problems.missing(p.attribute("model"), "give model='virtio'");
        }
        if (!"virtio".equals(v.model)) {
            throw VSOCK_MODELS.contains(v.model)
                    ? Problems.unsupportedValue(p.attribute("model"), v.model, "kvmtool's vsock is model='virtio'")
                    : Problems.invalid(p.attribute("model"), v.model, "accepted: virtio");
        }
        if (v.cid == null) {
            return new Vsock(null, true);
        }
        Pos cp = cx.pos(v.cid);
        Boolean auto = null;
        if (v.cid.auto != null) {
            auto = switch (v.cid.auto) {
                case "yes" -> true;
                case "no" -> false;
                default -> throw Problems.invalid(cp.attribute("auto"), v.cid.auto, "accepted: yes, no");
            };
        }
        Long address = null;
        if (v.cid.address != null) {
            Pos ap = cp.attribute("address");
            cx.place(Paths.DEVICES + "/vsock/cid/@address", ap);
            address = ReadContext.number(v.cid.address, ap, Vsock.MAX_CID);
        }
        if (Boolean.FALSE.equals(auto) && address == null) {
            throw Problems.missing(cp.attribute("address"), "auto='no' needs address='N' (" + Vsock.MIN_CID
                    + " or more), or say auto='yes'");
        }
        return new Vsock(address, address == null || Boolean.TRUE.equals(auto));
    }

    /**
     * One console in all. As in libvirt, a {@code <console>} whose target is serial together with a
     * {@code <serial>} is one device (the console is an alias of the first serial port).
     */
    private Console console(DomainXml.Devices dev) {
        List<DomainXml.Chr> serials = dev.serial;
        List<DomainXml.Chr> consoles = dev.console;
        ConsoleType type = ConsoleType.SERIAL;
        for (DomainXml.Chr s : serials) {
            chr(s, false);
        }
        for (DomainXml.Chr c : consoles) {
            type = chr(c, true);
        }
        DomainXml.Chr first = !consoles.isEmpty() ? consoles.get(0) : !serials.isEmpty() ? serials.get(0) : null;
        if (first != null) {
            cx.place(Paths.device("console", 0), cx.pos(first));
        }
        int count = serials.size() + consoles.size();
        if (!serials.isEmpty() && !consoles.isEmpty() && chrType(consoles.get(0)) == ConsoleType.SERIAL) {
            count--;
        }
        if (count > 1) {
            DomainXml.Chr second = serials.size() > 1 ? serials.get(1)
                    : consoles.size() > 1 ? consoles.get(1) : consoles.get(0);
            throw Problems.unsupported(cx.pos(second),
                    "kvmtool gives a guest exactly one console (serial or virtio); this definition has " + count);
        }
        return new Console(type);
    }

    private ConsoleType chrType(DomainXml.Chr c) {
        return c.target != null && "virtio".equals(c.target.type) ? ConsoleType.VIRTIO : ConsoleType.SERIAL;
    }

    private ConsoleType chr(DomainXml.Chr c, boolean isConsole) {
        Pos p = cx.pos(c);
        if (c.type != null && !"pty".equals(c.type)) {
            throw CHR_TYPES.contains(c.type)
                    ? Problems.unsupportedValue(p.attribute("type"), c.type, "kvmtool-manager carries the console on a pty: type='pty'")
                    : Problems.invalid(p.attribute("type"), c.type, "accepted: pty");
        }
        if (c.target == null) {
            return ConsoleType.SERIAL;
        }
        Pos tp = cx.pos(c.target);
        String t = c.target.type;
        if (isConsole && t != null && !"serial".equals(t) && !"virtio".equals(t)) {
            throw CONSOLE_TARGETS.contains(t)
                    ? Problems.unsupportedValue(tp.attribute("type"), t, "kvmtool's console is serial or virtio")
                    : Problems.invalid(tp.attribute("type"), t, "accepted: serial, virtio");
        }
        if (!isConsole && t != null && !"isa-serial".equals(t)) {
            throw SERIAL_TARGETS.contains(t)
                    ? Problems.unsupportedValue(tp.attribute("type"), t, "kvmtool's serial port is an ISA 8250: type='isa-serial'")
                    : Problems.invalid(tp.attribute("type"), t, "accepted: isa-serial");
        }
        if (c.target.port != null && !"0".equals(c.target.port.trim())) {
            throw Problems.unsupportedValue(tp.attribute("port"), c.target.port, "kvmtool's console is on port 0");
        }
        return chrType(c);
    }

    private boolean balloon(DomainXml.Devices dev) {
        DomainXml.Memballoon b = dev.memballoon;
        if (b == null) {
            return true; // libvirt adds a virtio balloon when none is given
        }
        Pos p = cx.pos(b);
        cx.place(Paths.DEVICES + "/memballoon", p);
        if (b.model == null) {
            throw Problems.missing(p.attribute("model"), "give model='virtio' or model='none'");
        }
        return switch (b.model) {
            case "virtio" -> true;
            case "none" -> false;
            case "virtio-transitional", "virtio-non-transitional", "xen" -> throw Problems.unsupportedValue(
                    p.attribute("model"), b.model, "kvmtool's balloon is model='virtio'");
            default -> throw Problems.invalid(p.attribute("model"), b.model, "accepted: virtio, none");
        };
    }

    private boolean rng(DomainXml.Devices dev) {
        for (int i = 0; i < dev.rng.size(); i++) {
            DomainXml.Rng r = dev.rng.get(i);
            Pos p = cx.pos(r);
            if (i > 0) {
                throw Problems.unsupported(p, "kvmtool gives a guest one virtio rng");
            }
            if (r.model == null) {
                throw Problems.missing(p.attribute("model"), "give model='virtio'");
            }
            if (!"virtio".equals(r.model)) {
                throw Problems.unsupportedValue(p.attribute("model"), r.model, "kvmtool's rng is model='virtio'");
            }
            if (r.backend == null) {
                throw Problems.missing(cx.child(r, "backend"), "give <backend model='random'>/dev/urandom</backend>");
            }
            Pos bp = cx.pos(r.backend);
            if (r.backend.model == null) {
                throw Problems.missing(bp.attribute("model"), "give model='random'");
            }
            if (!"random".equals(r.backend.model)) {
                throw Problems.unsupportedValue(bp.attribute("model"), r.backend.model, "kvmtool's rng reads the host's /dev/urandom: model='random'");
            }
            String source = ReadContext.text(r.backend).trim();
            if (!source.isEmpty() && !"/dev/urandom".equals(source) && !"/dev/random".equals(source)) {
                throw Problems.unsupportedValue(bp, source, "kvmtool's rng reads the host's /dev/urandom");
            }
        }
        return !dev.rng.isEmpty();
    }
}
