package org.kvmtool.manager.launch.argv;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDefinition.ConsoleType;
import org.kvmtool.manager.api.DomainDefinition.Disk;
import org.kvmtool.manager.api.DomainDefinition.Filesystem;
import org.kvmtool.manager.api.DomainDefinition.NetInterface;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.launch.argv.HostCapabilities.Feature;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Definition -> lkvm argv, as a pure function (no I/O, no clock): the same inputs give the same list.
 *
 * <p>The order is fixed (the golden files depend on it):
 * <pre>
 * EMULATOR run --name NAME -k KERNEL [-i INITRD] -m MIB [--hugetlbfs DIR] -c VCPUS --console serial|virtio
 *   [-d IMAGE[,ro][,direct]]... [--9p DIR,TAG]... [--balloon]
 *   (-n mode=tap,tapif=TAP[,guest_mac=MAC] | -n mode=user[,guest_mac=MAC])... | -n mode=none
 *   [--rng] [--vsock CID] --nodefaults -p CMDLINE
 * </pre>
 * EMULATOR is the domain's {@code <emulator>}, else the configured binary. Memory is rounded UP to whole
 * MiB (lkvm takes MiB; the guest gets at least what {@code <memory>} says). Each disk is its own
 * {@code -d}, in definition order, so the guest sees them as vda, vdb, ... . {@code --nodefaults} is
 * always there: without it lkvm exports the host's {@code /} to a diskless guest; with it {@code -p} is
 * the whole kernel command line, so it is composed here as lkvm would (kvmtool-facts.md): lkvm's x86
 * defaults, the console, {@code root=/dev/vda rw} when there is a disk and the domain's cmdline has no
 * {@code root=}, then the domain's cmdline. With no {@code <interface>}, {@code -n mode=none}: lkvm
 * would otherwise add a user-mode NIC. A bridge or ethernet interface is a tap lkvm attaches to by name, so
 * its tap must be named (the network service names a managed tap at start: the live definition), as must an
 * auto vsock's CID; a definition before that is refused. With hugepages, {@code --hugetlbfs} gets the directory
 * of {@link LaunchPaths#hugetlbfs()}, which the caller has checked (mount, page size, free pages): kvmtool itself
 * only checks that it is a hugetlbfs, and dies "out of memory" on the rest.
 *
 * <p>Refused with CONFIG_UNSUPPORTED: what this host's lkvm cannot do (architecture, console type,
 * missing feature, too many vCPUs or disks), what lkvm's option syntax cannot carry (a ',' in a path,
 * more than one user-mode NIC) and a socket path longer than sun_path holds. A definition that breaks
 * the model's own rules (which the codec's validation enforces) is INVALID_ARG.
 */
public final class ArgvBuilder {
    /** kvmtool's x86 kernel parameters (kvm__arch_set_cmdline), which --nodefaults leaves to us. */
    static final String X86_DEFAULTS = "noapic noacpi pci=conf1 reboot=k panic=1 i8042.direct=1 i8042.dumbkbd=1 i8042.nopnp=1";
    /** sun_path is 108 bytes and kvmtool truncates silently: the path must fit with its NUL. */
    public static final int MAX_SOCKET_PATH_BYTES = 107;
    /** Linux x86 COMMAND_LINE_SIZE (2048) less the NUL; kvmtool truncates a longer one silently. */
    static final int MAX_CMDLINE_BYTES = 2047;
    /** kvmtool's MAX_DISK_IMAGES. */
    static final int MAX_DISKS = 4;
    /** kvmtool's MAX_TAG_LEN. */
    static final int MAX_TAG_BYTES = 32;
    static final long MIB = 1024 * 1024;
    private static final Pattern TAP = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    private static final Pattern MAC = Pattern.compile("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}");

    private ArgvBuilder() {
    }

    public static List<String> build(DomainDefinition def, HostCapabilities caps, LaunchPaths paths) {
        List<String> argv = new ArrayList<>();
        argv.add(executable(def, paths));
        argv.add("run");
        argv.add("--name");
        argv.add(name(def, paths));
        if (!caps.arch().equals(def.os().arch())) {
            throw unsupported("/domain/os/type/@arch", "this host's lkvm runs " + printable(caps.arch()) + " guests, not " + printable(def.os().arch()));
        }
        argv.add("-k");
        argv.add(path(def.os().kernel(), "/domain/os/kernel"));
        if (def.os().initrd() != null) {
            argv.add("-i");
            argv.add(path(def.os().initrd(), "/domain/os/initrd"));
        }
        argv.add("-m");
        argv.add(Long.toString(mebibytes(def.maxMemoryBytes())));
        if (def.hugepages()) {
            need(caps, Feature.HUGETLBFS, "/domain/memoryBacking/hugepages", "hugetlbfs support");
            if (paths.hugetlbfs() == null) {
                throw unsupported("/domain/memoryBacking/hugepages", "this host has no hugetlbfs mount for guest RAM");
            }
            argv.add("--hugetlbfs");
            argv.add(path(paths.hugetlbfs(), "hugetlbfs.mount"));
        }
        argv.add("-c");
        argv.add(Integer.toString(vcpus(def.vcpus(), caps)));
        ConsoleType console = def.devices().console().type();
        if (!caps.consoleTypes().contains(console)) {
            throw unsupported("/domain/devices/console[1]/target/@type", "this host's lkvm has no " + lower(console) + " console");
        }
        argv.add("--console");
        argv.add(lower(console));
        disks(def.devices().disks(), argv);
        filesystems(def.devices().filesystems(), caps, argv);
        if (def.devices().balloon()) {
            need(caps, Feature.BALLOON, "/domain/devices/memballoon", "balloon");
            argv.add("--balloon");
        }
        nics(def.devices().interfaces(), caps, argv);
        if (def.devices().rng()) {
            need(caps, Feature.RNG, "/domain/devices/rng[1]", "virtio rng");
            argv.add("--rng");
        }
        if (def.devices().vsock() != null) {
            need(caps, Feature.VSOCK, "/domain/devices/vsock", "vsock");
            Long cid = def.devices().vsock().cid();
            if (cid == null) {
                throw unsupported("/domain/devices/vsock/cid", "the guest's CID is chosen when the domain starts (auto='yes')");
            }
            if (cid < DomainDefinition.Vsock.MIN_CID || cid > DomainDefinition.Vsock.MAX_CID) {
                throw invalid("/domain/devices/vsock/cid/@address", cid.toString(), "a guest's vsock CID is "
                        + DomainDefinition.Vsock.MIN_CID + " to " + DomainDefinition.Vsock.MAX_CID);
            }
            argv.add("--vsock");
            argv.add(cid.toString());
        }
        argv.add("--nodefaults");
        argv.add("-p");
        argv.add(kernelCmdline(def));
        return List.copyOf(argv);
    }

    /**
     * Where lkvm will put its IPC socket: kvmtool makes its directory {@code realpath(HOME/.lkvm) + "/"}
     * and then formats {@code "%s/%s.sock"}, hence the double slash (one byte that counts).
     */
    public static String socketPath(String homeDir, String name) {
        String home = homeDir;
        while (home.endsWith("/")) {
            home = home.substring(0, home.length() - 1);
        }
        return home + "/.lkvm//" + name + ".sock";
    }

    /** The kernel command line lkvm would compose without --nodefaults, then the domain's own. */
    static String kernelCmdline(DomainDefinition def) {
        String own = def.os().cmdline();
        if (own != null && hasControl(own)) {
            throw invalid("/domain/os/cmdline", own, "a kernel command line has no control characters");
        }
        StringBuilder b = new StringBuilder(X86_DEFAULTS);
        b.append(def.devices().console().type() == ConsoleType.VIRTIO ? " console=hvc0" : " console=ttyS0");
        if (!def.devices().disks().isEmpty() && (own == null || !own.contains("root="))) {
            b.append(" root=/dev/vda rw");
        }
        if (own != null && !own.isEmpty()) {
            b.append(' ').append(own);
        }
        String line = b.toString();
        int bytes = line.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_CMDLINE_BYTES) {
            throw unsupported("/domain/os/cmdline", "the kernel command line with lkvm's defaults is " + bytes
                    + " bytes; an x86 kernel takes at most " + MAX_CMDLINE_BYTES);
        }
        return line;
    }

    private static String executable(DomainDefinition def, LaunchPaths paths) {
        if (def.emulator() != null) {
            return path(def.emulator(), "/domain/devices/emulator");
        }
        if (paths.binary().isEmpty() || hasControl(paths.binary())) {
            throw invalid("lkvm.binary", paths.binary(), "not a usable program name");
        }
        return paths.binary();
    }

    private static String name(DomainDefinition def, LaunchPaths paths) {
        String name = def.name();
        if (!DomainDefinition.NAME_PATTERN.matcher(name).matches()) {
            throw invalid("/domain/name", name, "a name is 1 to 64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit");
        }
        if (!paths.homeDir().startsWith("/") || hasControl(paths.homeDir())) {
            throw invalid("run.dir", paths.homeDir(), "lkvm's HOME must be an absolute path");
        }
        String socket = socketPath(paths.homeDir(), name);
        int bytes = socket.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SOCKET_PATH_BYTES) {
            throw unsupported("/domain/name", "lkvm's socket " + socket + " would be " + bytes + " bytes; a UNIX socket path holds at most "
                    + MAX_SOCKET_PATH_BYTES + " (use a shorter name or state directory)");
        }
        return name;
    }

    private static long mebibytes(long bytes) {
        if (bytes < MIB) {
            throw invalid("/domain/memory", bytes + " bytes", "memory is at least 1 MiB");
        }
        return bytes / MIB + (bytes % MIB == 0 ? 0 : 1);
    }

    private static int vcpus(int vcpus, HostCapabilities caps) {
        if (vcpus < 1) {
            throw invalid("/domain/vcpu", Integer.toString(vcpus), "a domain has at least 1 vcpu");
        }
        if (vcpus > caps.maxVcpus()) {
            throw unsupported("/domain/vcpu", "this host's lkvm runs at most " + caps.maxVcpus() + " vcpus, not " + vcpus);
        }
        return vcpus;
    }

    private static void disks(List<Disk> disks, List<String> argv) {
        for (int i = 0; i < disks.size(); i++) {
            String at = "/domain/devices/disk[" + (i + 1) + "]";
            if (i >= MAX_DISKS) {
                throw unsupported(at, "kvmtool takes at most " + MAX_DISKS + " disk images");
            }
            Disk d = disks.get(i);
            String source = path(d.source(), at + "/source/@file");
            noComma(source, at + "/source/@file", "-d");
            argv.add("-d");
            argv.add(source + (d.readOnly() ? ",ro" : "") + (d.direct() ? ",direct" : ""));
        }
    }

    private static void filesystems(List<Filesystem> fss, HostCapabilities caps, List<String> argv) {
        for (int i = 0; i < fss.size(); i++) {
            String at = "/domain/devices/filesystem[" + (i + 1) + "]";
            need(caps, Feature.NINE_P, at, "9p");
            Filesystem fs = fss.get(i);
            String dir = path(fs.sourceDir(), at + "/source/@dir");
            noComma(dir, at + "/source/@dir", "--9p");
            int tagBytes = fs.tag().getBytes(StandardCharsets.UTF_8).length;
            if (tagBytes == 0 || tagBytes > MAX_TAG_BYTES || hasControl(fs.tag())) {
                throw invalid(at + "/target/@dir", fs.tag(), "a 9p tag is 1 to " + MAX_TAG_BYTES + " bytes without control characters");
            }
            noComma(fs.tag(), at + "/target/@dir", "--9p");
            argv.add("--9p");
            argv.add(dir + "," + fs.tag());
        }
    }

    private static void nics(List<NetInterface> nics, HostCapabilities caps, List<String> argv) {
        if (nics.isEmpty()) {
            argv.add("-n");
            argv.add("mode=none");
            return;
        }
        boolean user = false;
        for (int i = 0; i < nics.size(); i++) {
            String at = "/domain/devices/interface[" + (i + 1) + "]";
            NetInterface nic = nics.get(i);
            StringBuilder opt = new StringBuilder();
            if (nic.hasTap()) {
                need(caps, Feature.NET_TAP, at, "tap networking");
                String tap = nic.tapDevice();
                if (tap == null && nic.managed()) {
                    throw unsupported(at + "/target/@dev", "the tap is named when the domain starts (the manager makes it)");
                }
                if (tap == null || !TAP.matcher(tap).matches()) {
                    throw invalid(at + "/target/@dev", String.valueOf(tap), "a tap name is 1 to 15 of A-Z a-z 0-9 _ . -");
                }
                opt.append("mode=tap,tapif=").append(tap);
            } else {
                need(caps, Feature.NET_USER, at, "user-mode networking");
                if (user) {
                    throw unsupported(at, "kvmtool allows one user-mode network device");
                }
                user = true;
                opt.append("mode=user");
            }
            if (nic.mac() != null) {
                if (!MAC.matcher(nic.mac()).matches()) {
                    throw invalid(at + "/mac/@address", nic.mac(), "a MAC address is six hex pairs separated by ':'");
                }
                opt.append(",guest_mac=").append(nic.mac().toLowerCase(Locale.ROOT));
            }
            argv.add("-n");
            argv.add(opt.toString());
        }
    }

    private static void need(HostCapabilities caps, Feature feature, String at, String what) {
        if (!caps.features().contains(feature)) {
            throw unsupported(at, "this host's lkvm has no " + what);
        }
    }

    private static String path(String p, String at) {
        if (p == null || !p.startsWith("/") || hasControl(p)) {
            throw invalid(at, String.valueOf(p), "must be an absolute path");
        }
        return p;
    }

    private static void noComma(String value, String at, String option) {
        if (value.indexOf(',') >= 0) {
            throw unsupported(at, "lkvm's " + option + " option cannot carry a ',' (" + printable(value) + ")");
        }
    }

    private static boolean hasControl(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return true;
            }
        }
        return false;
    }

    private static String lower(ConsoleType t) {
        return t.name().toLowerCase(Locale.ROOT);
    }

    private static KvmtoolException unsupported(String at, String why) {
        return new KvmtoolException(ErrorCode.CONFIG_UNSUPPORTED, "unsupported configuration at " + at + ": " + why);
    }

    private static KvmtoolException invalid(String at, String value, String why) {
        return new KvmtoolException(ErrorCode.INVALID_ARG, "invalid value at " + at + "='" + printable(value) + "': " + why);
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 80; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return s.length() > 80 ? b + "..." : b.toString();
    }
}
