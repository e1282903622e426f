package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Where a guest with {@code <memoryBacking><hugepages/>} gets its RAM, checked before lkvm runs: kvmtool itself
 * only checks that {@code --hugetlbfs} names a hugetlbfs, and on anything else dies "out of memory" (its mmap
 * of the file fails) or "Can't ftruncate". The hugetlbfs is the configured one ({@code hugetlbfs.mount}) or the
 * first in /proc/self/mountinfo. As libvirt gives QEMU {@code <mount>/libvirt/qemu}, lkvm gets
 * {@code <mount>/kvmtool-manager}, made by the manager and, in system mode, lkvm's user's (mode 0700): a host's
 * hugetlbfs mount is root's, and kvmtool creates its file there.
 */
final class HugePages {
    static final String DIR_NAME = "kvmtool-manager";
    private static final long MIB = 1024 * 1024;
    /** kvmtool's x86 KVM_32BIT_GAP_SIZE and KVM_32BIT_GAP_START (x86/include/kvm/kvm-arch.h): RAM above the gap start is mapped with the gap. */
    private static final long GAP_SIZE = 768 * MIB;
    private static final long GAP_START = (1L << 32) - GAP_SIZE;

    /** A hugetlbfs mount: where, and its page size in bytes (0 when mountinfo does not say). */
    record Mount(Path point, long pageSize) {
    }

    private HugePages() {
    }

    /**
     * The directory lkvm gets with {@code --hugetlbfs}, made and given to lkvm's user. CONFIG_UNSUPPORTED without
     * a hugetlbfs or when guest RAM is not a whole number of its pages, OPERATION_FAILED when the host's pool
     * cannot hold the guest, SYSTEM_ERROR when the directory cannot be made.
     */
    static String directory(DomainDefinition def, Path configured, Path procDir, LkvmUser as) {
        List<Mount> mounts = mounts(procDir.resolve("self").resolve("mountinfo"));
        Mount mount = configured == null ? mounts.stream().findFirst().orElse(null) : containing(mounts, configured);
        if (mount == null) {
            throw new KvmtoolException(ErrorCode.CONFIG_UNSUPPORTED, "domain '" + def.name() + "' wants hugepages "
                    + "(<memoryBacking><hugepages/>), but " + (configured == null
                    ? "no hugetlbfs is mounted (mount one, e.g. mount -t hugetlbfs hugetlbfs /dev/hugepages, or set hugetlbfs.mount)"
                    : "hugetlbfs.mount " + configured + " is on no hugetlbfs mount"));
        }
        long pageSize = mount.pageSize() > 0 ? mount.pageSize() : defaultPageSize(procDir);
        long mapped = mappedBytes(def.maxMemoryBytes());
        if (pageSize > 0 && mapped % pageSize != 0) {
            throw new KvmtoolException(ErrorCode.CONFIG_UNSUPPORTED, "domain '" + def.name() + "': lkvm maps " + mapped / MIB
                    + " MiB of guest RAM from " + mount.point() + ", which is not a whole number of its " + kib(pageSize)
                    + " pages: give <memory> in multiples of " + kib(pageSize));
        }
        if (pageSize > 0 && pageSize == defaultPageSize(procDir)) {
            long available = availablePages(procDir);
            long needed = mapped / pageSize;
            if (available >= 0 && needed > available) {
                throw new KvmtoolException(ErrorCode.OPERATION_FAILED, "domain '" + def.name() + "' needs " + needed
                        + " huge pages of " + kib(pageSize) + " from " + mount.point() + ", but the host has " + available
                        + " free (raise /proc/sys/vm/nr_hugepages)");
            }
        }
        Path base = configured == null ? mount.point() : configured;
        Path dir = base.resolve(DIR_NAME);
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(dir);
            }
            if (as.uid() >= 0) {
                Files.setAttribute(dir, "unix:uid", as.uid(), LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(dir, "unix:gid", as.gid(), LinkOption.NOFOLLOW_LINKS);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            } else if (!Files.isWritable(dir)) {
                throw new IOException("not writable by this user");
            }
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "domain '" + def.name() + "': cannot prepare " + dir
                    + " for guest RAM on hugepages: " + AtomicFile.reason(e) + (as.uid() < 0 ? " (a hugetlbfs this user may write, e.g. mounted with uid=, can be set as hugetlbfs.mount)" : ""), e);
        }
        return dir.toString();
    }

    /** What lkvm maps for {@code -m}: whole MiB, plus the 32-bit gap when RAM reaches it (x86/kvm.c kvm__arch_init). */
    static long mappedBytes(long memoryBytes) {
        long bytes = (memoryBytes + MIB - 1) / MIB * MIB;
        return bytes < GAP_START ? bytes : bytes + GAP_SIZE;
    }

    /** The hugetlbfs mounts in mountinfo order: mount point (field 5) and the super options' pagesize=. */
    static List<Mount> mounts(Path mountinfo) {
        List<Mount> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(mountinfo);
        } catch (IOException e) {
            return out;
        }
        for (String line : lines) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (dash < 5 || dash + 1 >= f.length || !"hugetlbfs".equals(f[dash + 1])) {
                continue;
            }
            long page = 0;
            if (dash + 3 < f.length) {
                for (String opt : f[dash + 3].split(",")) {
                    if (opt.startsWith("pagesize=")) {
                        page = size(opt.substring("pagesize=".length()));
                    }
                }
            }
            out.add(new Mount(Path.of(unescape(f[4])), page));
        }
        return out;
    }

    /** The mount whose point is the longest prefix of {@code path}, if it is a hugetlbfs (another filesystem on top hides it). */
    private static Mount containing(List<Mount> hugetlbfs, Path path) {
        Path p = path.normalize();
        Mount best = null;
        for (Mount m : hugetlbfs) {
            if (p.startsWith(m.point()) && (best == null || m.point().getNameCount() > best.point().getNameCount())) {
                best = m;
            }
        }
        return best;
    }

    /** mountinfo's page sizes: 2M, 1G, 64K. */
    private static long size(String s) {
        if (s.isEmpty()) {
            return 0;
        }
        char unit = Character.toUpperCase(s.charAt(s.length() - 1));
        long shift = switch (unit) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 0;
        };
        try {
            return Long.parseLong(shift == 0 ? s : s.substring(0, s.length() - 1)) << shift;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** mountinfo escapes blanks, tabs, newlines and backslashes as \ooo. */
    private static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Hugepagesize from /proc/meminfo, in bytes; 0 when unknown. */
    private static long defaultPageSize(Path procDir) {
        return meminfo(procDir, "Hugepagesize:") * 1024;
    }

    /**
     * Pages of the default size a new mapping can get: free and not reserved, plus what overcommit may still add
     * (nr_overcommit_hugepages less the surplus in use). -1 when /proc does not say.
     */
    private static long availablePages(Path procDir) {
        long free = meminfo(procDir, "HugePages_Free:");
        long reserved = meminfo(procDir, "HugePages_Rsvd:");
        long surplus = meminfo(procDir, "HugePages_Surp:");
        if (free < 0 || reserved < 0) {
            return -1;
        }
        long overcommit = 0;
        try {
            overcommit = Long.parseLong(Files.readString(procDir.resolve("sys/vm/nr_overcommit_hugepages")).trim());
        } catch (IOException | NumberFormatException e) {
            // unknown: no overcommit
        }
        return free - reserved + Math.max(0, overcommit - Math.max(0, surplus));
    }

    /** A field of /proc/meminfo (its number, kB for sizes), -1 when absent. */
    private static long meminfo(Path procDir, String key) {
        try {
            for (String line : Files.readAllLines(procDir.resolve("meminfo"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private static String kib(long bytes) {
        return String.format(Locale.ROOT, "%d KiB", bytes / 1024);
    }
}
