package org.kvmtool.manager.xml;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDefinition.ConsoleType;
import org.kvmtool.manager.api.DomainDefinition.Disk;
import org.kvmtool.manager.api.DomainDefinition.Filesystem;
import org.kvmtool.manager.api.DomainDefinition.LifecycleAction;
import org.kvmtool.manager.api.DomainDefinition.NetInterface;
import org.kvmtool.manager.api.DomainDefinition.NetType;

import java.util.Locale;

/**
 * Model -> bound XML in canonical form: sizes in KiB with unit='KiB', and always the uuid, os type,
 * clock, lifecycle actions, console and memballoon, so that a dump says everything kvmtool will do.
 */
final class DomainWriter {
    private DomainWriter() {
    }

    static DomainXml.Domain write(DomainDefinition d) {
        DomainXml.Domain x = new DomainXml.Domain();
        x.type = DomainReader.DOMAIN_TYPE;
        x.name = text(d.name());
        x.uuid = text(d.uuid().toString());
        x.title = d.title() == null ? null : text(d.title());
        x.description = d.description() == null ? null : text(d.description());
        x.memory = kib(d.maxMemoryBytes());
        x.currentMemory = kib(d.currentMemoryBytes());
        if (d.memoryHardLimitBytes() != null) {
            x.memtune = new DomainXml.Memtune();
            x.memtune.hardLimit = kib(d.memoryHardLimitBytes());
        }
        if (d.hugepages()) {
            x.memoryBacking = new DomainXml.MemoryBacking();
            x.memoryBacking.hugepages = new DomainXml.Flag();
        }
        x.vcpu = new DomainXml.Vcpu();
        x.vcpu.value = Integer.toString(d.vcpus());
        if (d.cpuShares() != null) {
            x.cputune = new DomainXml.Cputune();
            x.cputune.shares = text(d.cpuShares().toString());
        }
        x.os = os(d.os());
        x.clock = new DomainXml.Clock();
        x.clock.offset = "utc";
        x.onPoweroff = action(d.onPoweroff());
        x.onReboot = action(d.onReboot());
        x.onCrash = action(d.onCrash());
        x.devices = devices(d);
        return x;
    }

    private static DomainXml.Os os(DomainDefinition.OsSpec spec) {
        DomainXml.Os os = new DomainXml.Os();
        os.type = new DomainXml.OsType();
        os.type.arch = spec.arch();
        os.type.value = "hvm";
        os.kernel = text(spec.kernel());
        os.initrd = spec.initrd() == null ? null : text(spec.initrd());
        os.cmdline = spec.cmdline() == null ? null : text(spec.cmdline());
        for (String dev : spec.bootDevices()) {
            DomainXml.Boot b = new DomainXml.Boot();
            b.dev = dev;
            os.boot.add(b);
        }
        return os;
    }

    private static DomainXml.Devices devices(DomainDefinition d) {
        DomainDefinition.Devices m = d.devices();
        DomainXml.Devices x = new DomainXml.Devices();
        x.emulator = d.emulator() == null ? null : text(d.emulator());
        for (Disk disk : m.disks()) {
            x.disk.add(disk(disk));
        }
        for (Filesystem fs : m.filesystems()) {
            DomainXml.Filesystem f = new DomainXml.Filesystem();
            f.type = "mount";
            f.accessmode = "passthrough";
            f.source = new DomainXml.DirRef();
            f.source.dir = fs.sourceDir();
            f.target = new DomainXml.DirRef();
            f.target.dir = fs.tag();
            x.filesystem.add(f);
        }
        for (NetInterface nic : m.interfaces()) {
            x.iface.add(nic(nic));
        }
        DomainXml.Chr console = new DomainXml.Chr();
        console.type = "pty";
        console.target = new DomainXml.ChrTarget();
        console.target.type = m.console().type() == ConsoleType.VIRTIO ? "virtio" : "serial";
        console.target.port = "0";
        x.console.add(console);
        x.memballoon = new DomainXml.Memballoon();
        x.memballoon.model = m.balloon() ? "virtio" : "none";
        if (m.rng()) {
            DomainXml.Rng rng = new DomainXml.Rng();
            rng.model = "virtio";
            rng.backend = new DomainXml.Backend();
            rng.backend.model = "random";
            rng.backend.value = "/dev/urandom";
            x.rng.add(rng);
        }
        if (m.vsock() != null) {
            x.vsock = new DomainXml.Vsock();
            x.vsock.model = "virtio";
            x.vsock.cid = new DomainXml.VsockCid();
            x.vsock.cid.auto = m.vsock().auto() ? "yes" : "no";
            x.vsock.cid.address = m.vsock().cid() == null ? null : m.vsock().cid().toString();
        }
        return x;
    }

    private static DomainXml.Disk disk(Disk disk) {
        DomainXml.Disk x = new DomainXml.Disk();
        x.type = "file";
        x.device = "disk";
        x.driver = new DomainXml.DiskDriver();
        x.driver.name = "kvmtool";
        x.driver.type = "raw";
        x.driver.cache = disk.direct() ? "none" : null;
        x.source = new DomainXml.DiskSource();
        x.source.file = disk.source();
        x.target = new DomainXml.DiskTarget();
        x.target.dev = disk.target();
        x.target.bus = "virtio";
        x.readonly = disk.readOnly() ? new DomainXml.Flag() : null;
        return x;
    }

    /** A managed ethernet tap says managed='yes' (libvirt's default), an existing one managed='no'. */
    private static DomainXml.Interface nic(NetInterface nic) {
        DomainXml.Interface x = new DomainXml.Interface();
        x.type = nic.type().name().toLowerCase(Locale.ROOT);
        if (nic.type() == NetType.BRIDGE) {
            x.source = new DomainXml.IfaceSource();
            x.source.bridge = nic.bridge();
        }
        if (nic.mac() != null) {
            x.mac = new DomainXml.Mac();
            x.mac.address = nic.mac();
        }
        if (nic.type() == NetType.ETHERNET || nic.tapDevice() != null) {
            x.target = new DomainXml.IfaceTarget();
            x.target.dev = nic.tapDevice();
            x.target.managed = nic.type() == NetType.ETHERNET ? (nic.managed() ? "yes" : "no") : null;
        }
        x.model = new DomainXml.Model();
        x.model.type = "virtio";
        return x;
    }

    private static DomainXml.Text text(String s) {
        return new DomainXml.Text(s);
    }

    private static DomainXml.Sized kib(long bytes) {
        DomainXml.Sized s = new DomainXml.Sized();
        s.unit = "KiB";
        s.value = Long.toString(bytes / 1024);
        return s;
    }

    private static DomainXml.Text action(LifecycleAction a) {
        return text(a.name().toLowerCase(Locale.ROOT));
    }
}
