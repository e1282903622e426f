package org.kvmtool.manager.xml;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDefinition.Disk;
import org.kvmtool.manager.api.DomainDefinition.Filesystem;
import org.kvmtool.manager.api.DomainDefinition.NetInterface;
import org.kvmtool.manager.api.DomainDefinition.NetType;
import org.kvmtool.manager.api.DomainDefinition.Vsock;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules a definition obeys however it was made (parsed, or built by a caller before
 * {@link XmlDomainCodec#format}): names, absolute paths, sizes, and what lkvm's option syntax can carry.
 * Positions come from the {@link SourceMap}; a definition built in code gets canonical paths alone.
 */
final class DomainValidator {
    static final long MIB = 1024 * 1024;
    /** kvmtool's MAX_DISK_IMAGES. */
    static final int MAX_DISKS = 4;
    /** kvmtool's MAX_TAG_LEN for a 9p mount tag. */
    static final int MAX_TAG_BYTES = 32;
    static final int MAX_PATH_BYTES = 4095;
    static final long MIN_SHARES = 2;
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");

    private final SourceMap where;

    private DomainValidator(SourceMap where) {
        this.where = where;
    }

    static DomainDefinition validate(DomainDefinition d, SourceMap where) {
        new DomainValidator(where).check(d);
        return d;
    }

    private void check(DomainDefinition d) {
        if (!DomainDefinition.NAME_PATTERN.matcher(d.name()).matches()) {
            throw Problems.invalid(at("/domain/name"), d.name(),
                    "a name is 1 to 64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit");
        }
        text(d.title(), "/domain/title", false);
        text(d.description(), "/domain/description", true);
        memory(d);
        if (d.vcpus() < 1 || d.vcpus() > DomainReader.MAX_VCPUS) {
            throw Problems.invalid(at("/domain/vcpu"), Integer.toString(d.vcpus()), "a domain has 1 to " + DomainReader.MAX_VCPUS + " vcpus");
        }
        if (d.cpuShares() != null && (d.cpuShares() < MIN_SHARES || d.cpuShares() > DomainReader.MAX_SHARES)) {
            throw Problems.invalid(at("/domain/cputune/shares"), d.cpuShares().toString(),
                    "cpu shares are " + MIN_SHARES + " to " + DomainReader.MAX_SHARES);
        }
        os(d.os());
        if (d.emulator() != null) {
            path(d.emulator(), "/domain/devices/emulator");
        }
        devices(d);
    }

    private void memory(DomainDefinition d) {
        long max = d.maxMemoryBytes();
        if (max < MIB || max > Units.MAX_BYTES || max % 1024 != 0) {
            throw Problems.invalid(at("/domain/memory"), size(max),
                    "memory is at least 1 MiB, at most " + Units.MAX_KIB + " KiB, in whole KiB");
        }
        long cur = d.currentMemoryBytes();
        if (cur < 1024 || cur % 1024 != 0) {
            throw Problems.invalid(at("/domain/currentMemory"), size(cur), "currentMemory is at least 1 KiB, in whole KiB");
        }
        if (cur > max) {
            throw Problems.invalid(at("/domain/currentMemory"), size(cur),
                    "currentMemory exceeds memory (" + (max / 1024) + " KiB)");
        }
        if (cur < max && !d.devices().balloon()) {
            throw Problems.unsupported(at("/domain/currentMemory"),
                    "a balloon target below <memory> needs <memballoon model='virtio'/>");
        }
        Long limit = d.memoryHardLimitBytes();
        if (limit != null && (limit < MIB || limit >= Units.MAX_BYTES || limit % 1024 != 0)) {
            throw Problems.invalid(at("/domain/memtune/hard_limit"), size(limit),
                    "a hard limit is at least 1 MiB, in whole KiB (omit it for no limit)");
        }
    }

    private void os(DomainDefinition.OsSpec os) {
        if (!DomainReader.ARCH.equals(os.arch())) {
            throw Problems.unsupportedValue(at("/domain/os/type/@arch"), os.arch(), "kvmtool-manager runs " + DomainReader.ARCH + " guests");
        }
        path(os.kernel(), "/domain/os/kernel");
        if (os.initrd() != null) {
            path(os.initrd(), "/domain/os/initrd");
        }
        if (os.cmdline() != null) {
            if (os.cmdline().isEmpty() || hasControl(os.cmdline(), false)) {
                throw Problems.invalid(at("/domain/os/cmdline"), os.cmdline(), "a kernel command line is one non-empty line without control characters");
            }
            legal(os.cmdline(), "/domain/os/cmdline");
        }
        for (int i = 0; i < os.bootDevices().size(); i++) {
            String dev = os.bootDevices().get(i);
            if (!"hd".equals(dev)) {
                throw Problems.unsupportedValue(at("/domain/os/boot[" + (i + 1) + "]/@dev"), String.valueOf(dev), "kvmtool boots the <kernel> given: dev='hd'");
            }
        }
    }

    private void devices(DomainDefinition d) {
        List<Disk> disks = d.devices().disks();
        for (int i = 0; i < disks.size(); i++) {
            String key = Paths.device("disk", i);
            if (i >= MAX_DISKS) {
                throw Problems.unsupported(at(key), "kvmtool takes at most " + MAX_DISKS + " disk images");
            }
            Disk disk = disks.get(i);
            path(disk.source(), key + "/source/@file");
            noComma(disk.source(), key + "/source/@file", "-d");
            String expected = "vd" + (char) ('a' + i);
            if (!expected.equals(disk.target())) {
                throw Problems.unsupportedValue(at(key + "/target/@dev"), disk.target(),
                        "kvmtool names virtio disks in order: disk " + (i + 1) + " is " + expected + " in the guest");
            }
        }
        Set<String> tags = new HashSet<>();
        List<Filesystem> fss = d.devices().filesystems();
        for (int i = 0; i < fss.size(); i++) {
            String key = Paths.device("filesystem", i);
            Filesystem fs = fss.get(i);
            path(fs.sourceDir(), key + "/source/@dir");
            noComma(fs.sourceDir(), key + "/source/@dir", "--9p");
            String tagKey = key + "/target/@dir";
            int bytes = fs.tag().getBytes(StandardCharsets.UTF_8).length;
            if (bytes == 0 || bytes > MAX_TAG_BYTES || hasControl(fs.tag(), false) || fs.tag().isBlank()) {
                throw Problems.invalid(at(tagKey), fs.tag(), "a 9p mount tag is 1 to " + MAX_TAG_BYTES + " bytes without control characters");
            }
            legal(fs.tag(), tagKey);
            noComma(fs.tag(), tagKey, "--9p");
            if (!tags.add(fs.tag())) {
                throw Problems.invalid(at(tagKey), fs.tag(), "another filesystem already has this tag");
            }
        }
        nics(d.devices().interfaces());
        vsock(d.devices().vsock());
    }

    private void nics(List<NetInterface> nics) {
        Set<String> macs = new HashSet<>();
        Set<String> taps = new HashSet<>();
        boolean user = false;
        for (int i = 0; i < nics.size(); i++) {
            String key = Paths.device("interface", i);
            NetInterface nic = nics.get(i);
            if (nic.type() == NetType.USER) {
                if (nic.tapDevice() != null || nic.bridge() != null || nic.managed()) {
                    throw Problems.unsupported(at(key + "/target"), "user-mode networking has no host device");
                }
                if (user) {
                    throw Problems.unsupported(at(key), "kvmtool allows one user-mode network device");
                }
                user = true;
            } else {
                String tapKey = key + "/target/@dev";
                String tap = nic.tapDevice();
                if (tap == null && !nic.managed()) {
                    throw Problems.invalid(at(tapKey), "null", "an existing tap (managed='no') must be named");
                }
                if (tap != null) {
                    ifname(tap, tapKey, "a tap");
                    if (!taps.add(tap)) {
                        throw Problems.invalid(at(tapKey), tap, "another interface already uses this tap");
                    }
                }
                if (nic.type() == NetType.BRIDGE) {
                    ifname(nic.bridge(), key + "/source/@bridge", "a bridge");
                    if (!nic.managed()) {
                        throw Problems.unsupported(at(key + "/target/@managed"), "kvmtool-manager makes a bridge interface's tap");
                    }
                } else if (nic.bridge() != null) {
                    throw Problems.unsupported(at(key + "/source"), "a type='ethernet' interface has no source");
                }
            }
            if (nic.mac() != null) {
                String macKey = key + "/mac/@address";
                if (!MAC.matcher(nic.mac()).matches()) {
                    throw Problems.invalid(at(macKey), nic.mac(), "a MAC address is six lower-case hex pairs separated by ':'");
                }
                if ((Integer.parseInt(nic.mac().substring(0, 2), 16) & 1) != 0) {
                    throw Problems.invalid(at(macKey), nic.mac(), "a multicast address cannot be a NIC's address");
                }
                if (!macs.add(nic.mac())) {
                    throw Problems.invalid(at(macKey), nic.mac(), "another interface already has this MAC address");
                }
            }
        }
    }

    /** Linux interface names: at most IFNAMSIZ - 1 bytes, and what lkvm's -n option can carry. */
    private void ifname(String name, String key, String what) {
        if (name == null || !IFNAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw Problems.invalid(at(key), String.valueOf(name), what + " name is 1 to 15 of A-Z a-z 0-9 _ . -");
        }
    }

    private void vsock(Vsock v) {
        if (v == null || v.cid() == null) {
            return;
        }
        if (v.cid() < Vsock.MIN_CID || v.cid() > Vsock.MAX_CID) {
            throw Problems.invalid(at(Paths.DEVICES + "/vsock/cid/@address"), v.cid().toString(),
                    "a guest's vsock CID is " + Vsock.MIN_CID + " to " + Vsock.MAX_CID + " (0 to 2 are the hypervisor's and the host's)");
        }
    }

    private static String size(long bytes) {
        return bytes % 1024 == 0 ? bytes / 1024 + " KiB" : bytes + " bytes";
    }

    private Pos at(String key) {
        return where.at(key);
    }

    private void path(String p, String key) {
        if (p.isEmpty() || p.charAt(0) != '/' || hasControl(p, false)) {
            throw Problems.invalid(at(key), p, "must be an absolute path");
        }
        if (p.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
            throw Problems.invalid(at(key), p, "a path is at most " + MAX_PATH_BYTES + " bytes");
        }
        legal(p, key);
    }

    private void noComma(String value, String key, String option) {
        if (value.indexOf(',') >= 0) {
            throw Problems.unsupportedValue(at(key), value, "lkvm's " + option + " option cannot carry a ','");
        }
    }

    private void text(String s, String key, boolean multiline) {
        if (s == null) {
            return;
        }
        if (s.isEmpty() || hasControl(s, multiline)) {
            throw Problems.invalid(at(key), s, multiline ? "text without control characters other than tab and newline"
                    : "one non-empty line without control characters");
        }
        legal(s, key);
    }

    /** Control characters; with {@code multiline}, tab and newline are allowed (XML keeps them in text). */
    private static boolean hasControl(String s, boolean multiline) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c < 0x20 && !(multiline && (c == '\t' || c == '\n'))) || c == 0x7f) {
                return true;
            }
        }
        return false;
    }

    /** Characters XML 1.0 cannot carry (lone surrogates, U+FFFE, U+FFFF) would not survive format and parse. */
    private void legal(String s, String key) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c) || c == 0xfffe || c == 0xffff) {
                throw Problems.invalid(at(key), s, "contains a character XML cannot carry");
            }
        }
    }
}
