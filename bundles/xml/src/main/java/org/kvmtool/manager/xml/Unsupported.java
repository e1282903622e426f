package org.kvmtool.manager.xml;

import java.util.HashMap;
import java.util.Map;

/**
 * Elements and attributes that libvirt's domain schema knows and kvmtool cannot honour. They are refused
 * with CONFIG_UNSUPPORTED and a reason; anything in neither this table nor the binding is an unknown
 * element or attribute (XML_ERROR). Values of supported attributes are judged in {@link DomainReader}.
 * Keys are element paths without indices.
 */
final class Unsupported {
    private static final Map<String, String> ELEMENTS = new HashMap<>();
    private static final Map<String, String> ATTRIBUTES = new HashMap<>();

    private Unsupported() {
    }

    static String element(String plainPath) {
        return ELEMENTS.get(plainPath);
    }

    static String attribute(String plainElementPath, String attribute) {
        return ATTRIBUTES.get(plainElementPath + "/@" + attribute);
    }

    private static void elements(String parent, String why, String... names) {
        for (String n : names) {
            ELEMENTS.put(parent + "/" + n, why);
        }
    }

    private static void attributes(String element, String why, String... names) {
        for (String n : names) {
            ATTRIBUTES.put(element + "/@" + n, why);
        }
    }

    static {
        String d = "/domain";
        elements(d, "kvmtool-manager does not keep libvirt metadata", "metadata");
        elements(d, "kvmtool has no memory hotplug", "maxMemory");
        String backing = d + "/memoryBacking";
        elements(backing, "kvmtool maps guest RAM privately, from anonymous memory or a hugetlbfs", "nosharepages",
                "locked", "source", "access", "allocation", "discard");
        elements(backing + "/hugepages", "kvmtool uses the page size of the hugetlbfs mount", "page");
        elements(d, "kvmtool-manager only tunes cpu shares and the memory hard limit", "blkiotune", "numatune", "resource");
        elements(d, "kvmtool has no CPU model or topology configuration", "cpu", "vcpus");
        elements(d, "kvmtool has no machine features to switch (it boots with noapic noacpi)", "features");
        elements(d, "kvmtool has no power management states", "pm");
        elements(d, "kvmtool has no SMBIOS tables", "sysinfo");
        elements(d, "kvmtool has no user namespace mapping", "idmap");
        elements(d, "kvmtool has no I/O threads", "iothreads", "iothreadids", "defaultiothread");
        elements(d, "kvmtool-manager has no security labels", "seclabel");
        elements(d, "kvmtool has no launch security or key wrapping", "launchSecurity", "keywrap");
        elements(d, "kvmtool has no VM generation id", "genid");
        elements(d, "kvmtool has no perf events", "perf");
        elements(d, "kvmtool has no bootloader", "bootloader", "bootloader_args");
        elements(d, "kvmtool-manager has no lock manager", "on_lockfailure");
        elements(d, "kvmtool has no I/O throttling", "throttlegroups");
        attributes(d, "a domain id is assigned at run time", "id");

        String os = d + "/os";
        elements(os, "kvmtool boots the <kernel> directly: no firmware", "loader", "nvram", "firmware", "bios", "smbios");
        elements(os, "kvmtool has no boot menu", "bootmenu");
        elements(os, "kvmtool takes no device tree", "dtb");
        elements(os, "kvmtool takes no ACPI tables", "acpi");
        elements(os, "container init options are not for kvmtool", "init", "initarg", "initenv", "initdir", "inituser", "initgroup");
        attributes(os, "kvmtool boots the <kernel> directly: no firmware", "firmware");

        attributes(d + "/vcpu", "kvmtool has no vCPU pinning", "cpuset");
        attributes(d + "/vcpu", "kvmtool has no vCPU hotplug", "current");

        attributes(d + "/memory", "kvmtool has no core dump filter", "dumpCore");

        String tune = d + "/cputune";
        elements(tune, "kvmtool-manager only sets cpu shares", "period", "quota", "global_period", "global_quota",
                "emulator_period", "emulator_quota", "iothread_period", "iothread_quota", "vcpupin", "emulatorpin",
                "iothreadpin", "vcpusched", "iothreadsched", "emulatorsched", "cachetune", "memorytune");
        elements(d + "/memtune", "kvmtool-manager only sets the hard limit", "soft_limit", "swap_hard_limit", "min_guarantee");

        elements(d + "/clock", "kvmtool has no timer configuration", "timer");
        attributes(d + "/clock", "kvmtool's clock is the host's UTC clock", "adjustment", "basis", "timezone");

        String dev = d + "/devices";
        elements(dev, "kvmtool-manager gives the guest no graphics", "graphics", "video", "input");
        elements(dev, "kvmtool has no sound device", "sound", "audio");
        elements(dev, "kvmtool-manager has no device assignment", "hostdev", "redirdev", "redirfilter", "smartcard", "hub");
        elements(dev, "kvmtool has no watchdog or panic device", "watchdog", "panic");
        elements(dev, "kvmtool has no shared memory, TPM, lease, IOMMU or crypto device", "shmem", "tpm", "lease",
                "iommu", "crypto", "pstore", "memory");
        elements(dev, "kvmtool gives the guest one console and nothing else on character devices", "channel", "parallel");
        elements(dev + "/vsock", "kvmtool's vsock has no such option", "alias", "address", "driver");

        String disk = dev + "/disk";
        elements(disk, "kvmtool's disks have no such option", "boot", "shareable", "transient", "serial", "wwn",
                "vendor", "product", "iotune", "encryption", "auth", "geometry", "blockio", "mirror", "backingStore",
                "throttlefilters", "address", "alias");
        attributes(disk, "kvmtool's disks have no such option", "snapshot", "model", "rawio", "sgio");
        attributes(disk + "/driver", "kvmtool's disk backend has no such option", "io", "ioeventfd", "event_idx",
                "copy_on_read", "discard", "detect_zeroes", "error_policy", "rerror_policy", "iothread", "queues",
                "queue_size", "metadata_cache", "discard_no_unref");
        attributes(disk + "/source", "kvmtool opens the image when it starts", "startupPolicy", "index");
        elements(disk + "/source", "kvmtool-manager passes disk image files: type='file'", "host", "auth", "seclabel",
                "reservations", "slices", "cookies", "ssl", "readahead", "timeout", "initiator", "encryption",
                "dataStore", "config", "snapshot", "reconnect");
        attributes(disk + "/target", "kvmtool's disks have no such option", "tray", "removable", "rotation_rate");

        attributes(dev + "/controller", "kvmtool has no controller options", "model", "ports", "vectors", "maxGrantFrames");

        String fs = dev + "/filesystem";
        elements(fs, "kvmtool's 9p shares have no such option", "readonly", "driver", "binary", "space_hard_limit",
                "space_soft_limit", "idmap", "address", "alias");
        attributes(fs, "kvmtool's 9p shares have no such option", "fmode", "dmode", "multidevs", "model");

        String nic = dev + "/interface";
        elements(nic, "kvmtool's network card has no such option (a managed tap takes its bridge's MTU)", "script", "downscript",
                "ip", "route", "driver", "bandwidth", "vlan", "virtualport", "link", "mtu", "coalesce", "boot", "rom",
                "filterref", "guest", "alias", "address", "tune", "teaming", "backend", "portForward", "acpi",
                "portOptions");
        attributes(nic, "kvmtool's network card has no such option", "trustGuestRxFilters", "managed");

        for (String chr : new String[] {dev + "/console", dev + "/serial"}) {
            elements(chr, "kvmtool-manager allocates the console's pty itself", "source", "log", "protocol", "alias", "address");
            attributes(chr, "kvmtool-manager allocates the console's pty itself", "tty");
            elements(chr + "/target", "kvmtool has one serial model", "model");
        }
        elements(dev + "/memballoon", "kvmtool's balloon has no such option", "stats", "alias", "address", "driver");
        attributes(dev + "/memballoon", "kvmtool's balloon has no such option", "autodeflate", "freePageReporting");
        elements(dev + "/rng", "kvmtool's rng has no such option", "rate", "alias", "address", "driver");
    }
}
