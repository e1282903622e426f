package org.kvmtool.manager.host;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Reads the host's facts from the files under {@link HostPaths}, at each call. Every method is a parser over
 * those files; nothing is cached and nothing is written.
 */
final class HostReader {
    private static final Pattern NODE = Pattern.compile("node(\\d+)");
    private static final Pattern CPU = Pattern.compile("cpu(\\d+)");
    private static final Pattern HUGEPAGES = Pattern.compile("hugepages-(\\d+)kB");
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final HostPaths paths;

    HostReader(HostPaths paths) {
        this.paths = paths;
    }

    HostPaths paths() {
        return paths;
    }

    /** uname's machine: /proc/sys/kernel/arch, else the ELF machine of this process's own executable. */
    String arch() {
        return KernelFiles.value(paths.proc().resolve("sys/kernel/arch"))
                .orElseGet(() -> elfArch(paths.proc().resolve("self/exe")));
    }

    static String elfArch(Path exe) {
        byte[] h = new byte[20];
        try (InputStream in = Files.newInputStream(exe)) {
            if (in.readNBytes(h, 0, 20) < 20 || h[0] != 0x7f || h[1] != 'E' || h[2] != 'L' || h[3] != 'F') {
                throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot tell the host's arch: " + exe + " is not ELF");
            }
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot tell the host's arch: cannot read " + exe
                    + ": " + KernelFiles.reason(e), e);
        }
        boolean is64 = h[4] == 2;
        boolean little = h[5] == 1;
        int machine = little ? (h[18] & 0xff) | (h[19] & 0xff) << 8 : (h[19] & 0xff) | (h[18] & 0xff) << 8;
        return switch (machine) {
            case 62 -> "x86_64";
            case 3 -> "i686";
            case 183 -> "aarch64";
            case 40 -> "armv7l";
            case 243 -> is64 ? "riscv64" : "riscv32";
            case 21 -> little ? "ppc64le" : "ppc64";
            case 22 -> is64 ? "s390x" : "s390";
            case 258 -> "loongarch64";
            default -> throw new KvmtoolException(ErrorCode.SYSTEM_ERROR,
                    "cannot tell the host's arch: unknown ELF machine " + machine + " in " + exe);
        };
    }

    CpuInfo cpuInfo() {
        return CpuInfo.parse(KernelFiles.read(paths.proc().resolve("cpuinfo")));
    }

    Map<String, Long> memInfo() {
        return MemInfo.parse(KernelFiles.read(paths.proc().resolve("meminfo")));
    }

    String procStat() {
        return KernelFiles.read(paths.proc().resolve("stat"));
    }

    /** The CPUs present: /sys/devices/system/cpu/present, else the cpuN directories there. */
    List<Integer> present() {
        return KernelFiles.value(paths.cpuDir().resolve("present")).map(CpuList::parse)
                .orElseGet(() -> numbered(paths.cpuDir(), CPU));
    }

    /** The online CPUs: /sys/devices/system/cpu/online, else every CPU present. */
    List<Integer> online() {
        return KernelFiles.value(paths.cpuDir().resolve("online")).map(CpuList::parse).orElseGet(this::present);
    }

    /** Every CPU present, with its topology where the kernel gives one. */
    List<HostCpu> cpus() {
        List<Integer> online = online();
        List<HostCpu> cpus = new ArrayList<>();
        for (int id : present()) {
            Path topology = paths.cpuDir().resolve("cpu" + id).resolve("topology");
            Integer socket = KernelFiles.intValue(topology.resolve("physical_package_id")).orElse(null);
            // kernels before 5.2 have no die_id: one die per package
            Integer die = KernelFiles.intValue(topology.resolve("die_id")).orElse(socket == null ? null : 0);
            Integer core = KernelFiles.intValue(topology.resolve("core_id")).orElse(null);
            String siblings = KernelFiles.value(topology.resolve("thread_siblings_list")).orElse(null);
            boolean on = online.contains(id);
            cpus.add(on ? new HostCpu(id, true, socket, die, core, siblings) : new HostCpu(id, false, null, null, null, null));
        }
        return cpus;
    }

    /** The NUMA cells; a host without /sys/devices/system/node is one cell holding every CPU and all memory. */
    List<Cell> cells() {
        List<Integer> ids = Files.isDirectory(paths.nodeDir()) ? numbered(paths.nodeDir(), NODE) : List.of();
        int basePage = pageSizeKiB();
        if (ids.isEmpty()) {
            Map<String, Long> mem = memInfo();
            long total = mem.getOrDefault("MemTotal", 0L);
            return List.of(Cell.of(0, present(), total, mem.getOrDefault("MemFree", 0L),
                    pages(total, basePage, paths.sys().resolve("kernel/mm/hugepages")), Map.of()));
        }
        List<Cell> cells = new ArrayList<>();
        for (int id : ids) {
            Path node = paths.nodeDir().resolve("node" + id);
            Map<String, Long> mem = MemInfo.parse(KernelFiles.read(node.resolve("meminfo")));
            long total = mem.getOrDefault("MemTotal", 0L);
            List<Integer> cpus = KernelFiles.value(node.resolve("cpulist")).map(CpuList::parse).orElse(List.of());
            Map<Integer, Integer> distances = new TreeMap<>();
            Optional<String> distance = KernelFiles.value(node.resolve("distance"));
            if (distance.isPresent()) {
                String[] d = distance.get().split("\\s+");
                for (int i = 0; i < d.length && i < ids.size(); i++) {
                    distances.put(ids.get(i), Integer.parseInt(d[i]));
                }
            }
            cells.add(Cell.of(id, cpus, total, mem.getOrDefault("MemFree", 0L),
                    pages(total, basePage, node.resolve("hugepages")), distances));
        }
        return cells;
    }

    /** Base pages: the cell's memory counted in them (as libvirt counts); huge pages: nr_hugepages of each size. */
    private static Map<Integer, Long> pages(long totalKiB, int basePageKiB, Path hugepagesDir) {
        Map<Integer, Long> pages = new HashMap<>();
        pages.put(basePageKiB, totalKiB / basePageKiB);
        for (int size : hugepageSizes(hugepagesDir)) {
            pages.put(size, KernelFiles.value(hugepagesDir.resolve("hugepages-" + size + "kB").resolve("nr_hugepages"))
                    .map(Long::parseLong).orElse(0L));
        }
        return pages;
    }

    /** The huge page sizes the kernel offers, in KiB, ascending. */
    List<Integer> hugepageSizes() {
        return hugepageSizes(paths.sys().resolve("kernel/mm/hugepages"));
    }

    private static List<Integer> hugepageSizes(Path dir) {
        return numbered(dir, HUGEPAGES);
    }

    /** The base page size in KiB: the kernel's page size of this process's first mapping, else 4. */
    int pageSizeKiB() {
        Optional<String> smaps = KernelFiles.readIfPresent(paths.proc().resolve("self/smaps"));
        if (smaps.isPresent()) {
            Matcher m = Pattern.compile("KernelPageSize:\\s+(\\d+) kB").matcher(smaps.get());
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
        }
        return 4;
    }

    /** The DMI fields the kernel exports, by file name; those it does not let us read are left out. */
    Map<String, String> dmi() {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String name : Smbios.FILES) {
            KernelFiles.value(paths.dmiDir().resolve(name)).ifPresent(v -> fields.put(name, v));
        }
        return fields;
    }

    /** The host's UUID: DMI's system UUID (readable by root), else /etc/machine-id written as a UUID. */
    Optional<String> hostUuid() {
        Optional<String> dmi = KernelFiles.value(paths.dmiDir().resolve("product_uuid"))
                .filter(u -> UUID.matcher(u).matches()).map(String::toLowerCase);
        if (dmi.isPresent()) {
            return dmi;
        }
        return KernelFiles.value(paths.etc().resolve("machine-id")).filter(id -> id.matches("[0-9a-fA-F]{32}"))
                .map(id -> (id.substring(0, 8) + "-" + id.substring(8, 12) + "-" + id.substring(12, 16) + "-"
                        + id.substring(16, 20) + "-" + id.substring(20)).toLowerCase());
    }

    /** The uid and primary gid of a user in /etc/passwd; empty when there is no such user. */
    Optional<long[]> userIds(String user) {
        for (String line : KernelFiles.readIfPresent(paths.etc().resolve("passwd")).orElse("").split("\n")) {
            String[] f = line.split(":", -1);
            if (f.length >= 4 && f[0].equals(user)) {
                try {
                    return Optional.of(new long[] {Long.parseLong(f[2]), Long.parseLong(f[3])});
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    /** This process's effective uid and gid (the second figures of Uid: and Gid: in /proc/self/status). */
    Optional<long[]> ownIds() {
        Long uid = null;
        Long gid = null;
        for (String line : KernelFiles.readIfPresent(paths.proc().resolve("self/status")).orElse("").split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[0].equals("Uid:")) {
                uid = Long.parseLong(f[2]);
            } else if (f.length >= 3 && f[0].equals("Gid:")) {
                gid = Long.parseLong(f[2]);
            }
        }
        return uid == null || gid == null ? Optional.empty() : Optional.of(new long[] {uid, gid});
    }

    /** The numbers N of the entries PREFIXN of a directory, ascending; none when it is absent. */
    private static List<Integer> numbered(Path dir, Pattern name) {
        List<Integer> ids = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return ids;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                Matcher m = name.matcher(e.getFileName().toString());
                if (m.matches()) {
                    ids.add(Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot list " + dir + ": " + KernelFiles.reason(e), e);
        }
        ids.sort(null);
        return ids;
    }
}
