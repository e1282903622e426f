package org.kvmtool.manager.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.kvmtool.manager.api.KvmtoolException;

/**
 * Works out the host's layout from mountinfo, the process's own /proc/self/cgroup and the hierarchies'
 * directories, without writing anything. cgroup v2 is tried first for every controller; on a hybrid host a
 * controller the unified hierarchy does not hold comes from its v1 hierarchy.
 */
final class LayoutDetector {
    private LayoutDetector() {
    }

    static HostLayout detect(HostPaths paths) {
        String mountinfo;
        try {
            mountinfo = CgroupFs.readRaw(paths.mountinfo());
        } catch (IOException e) {
            return new HostLayout("none", Map.of(), false, false, false,
                    "cannot read " + paths.mountinfo() + ": " + CgroupFs.errnoText(e));
        }
        List<CgroupMount> mounts = CgroupMount.parse(mountinfo);
        Map<String, String> self = selfCgroup(paths.selfCgroup());

        Hierarchy v2 = null;
        List<Hierarchy> v1 = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        for (CgroupMount m : preferSysFsCgroup(mounts)) {
            if (!seen.add(m.selfCgroupKey())) {
                continue; // the same hierarchy mounted twice: the first (under /sys/fs/cgroup) wins
            }
            Hierarchy h = hierarchy(paths, m, self.get(m.selfCgroupKey()));
            if (m.v2()) {
                v2 = h;
            } else {
                v1.add(h);
            }
        }
        boolean v1Controllers = v1.stream().anyMatch(h -> !h.controllers().isEmpty());
        String layout = v1Controllers && v2 != null ? "hybrid"
                : v1Controllers ? "legacy" : v2 != null ? "unified" : "none";

        Map<String, Hierarchy> byController = choose(v1, v2);
        List<Hierarchy> all = new ArrayList<>(v1);
        if (v2 != null) {
            all.add(0, v2);
        }
        boolean systemd = all.stream()
                .anyMatch(h -> Files.isDirectory((h.base() != null ? h.base() : h.dir()).resolve("init.scope")));
        boolean container = byController.values().stream().anyMatch(Hierarchy::nested);

        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        if (byController.isEmpty()) {
            problems.add(mounts.isEmpty() ? "no cgroup filesystem is mounted"
                    : "none of the cpu, cpuacct, memory controllers is available");
        }
        List<Hierarchy> used = new ArrayList<>();
        byController.values().forEach(h -> {
            if (!used.contains(h)) {
                used.add(h);
            }
        });
        for (Hierarchy h : used) {
            if (h.base() == null) {
                problems.add(h.problem());
            } else if (h == v2) {
                String busy = internalProcesses(h, controllersOf(byController, h));
                if (busy != null) {
                    problems.add(busy);
                }
            }
            if (h.base() != null && !h.base().equals(h.dir())) {
                notes.add("using the delegated subtree " + h.base());
            }
        }
        for (String c : HostLayout.CONTROLLERS) {
            if (!byController.containsKey(c) && !byController.isEmpty()) {
                notes.add("no " + c + " controller");
            }
        }
        if (container) {
            notes.add("inside a container");
        }
        boolean usable = problems.isEmpty();
        String reason = String.join("; ", usable ? notes.stream().distinct().toList() : problems);
        return new HostLayout(layout, byController, systemd, container, usable, reason);
    }

    /** Per controller, the v2 hierarchy when it holds the controller, else the v1 hierarchy bound to it. */
    static Map<String, Hierarchy> choose(List<Hierarchy> v1, Hierarchy v2) {
        Map<String, Hierarchy> byController = new LinkedHashMap<>();
        boolean v2Cpu = v2 != null && v2.controllers().contains("cpu");
        put(byController, "cpu", v2Cpu ? v2 : v1With(v1, "cpu"));
        // v2 accounts CPU time in cpu.stat of every group even without the cpu controller
        Hierarchy cpuacct = v2Cpu ? v2 : v1With(v1, "cpuacct");
        put(byController, "cpuacct", cpuacct != null ? cpuacct : v2);
        put(byController, "memory", v2 != null && v2.controllers().contains("memory") ? v2 : v1With(v1, "memory"));
        return byController;
    }

    private static Hierarchy hierarchy(HostPaths paths, CgroupMount m, String ownPath) {
        Path dir = paths.translate(m.mountPoint());
        Backend backend = m.v2() ? new V2Backend() : new V1Backend();
        Path ownDir = ownDir(dir, m.root(), ownPath);
        boolean nested = !m.root().equals("/")
                || (m.v2() ? Files.exists(dir.resolve("cgroup.type")) : !Files.exists(dir.resolve("release_agent")));

        Path base = null;
        String problem = null;
        if (m.readOnly()) {
            problem = "cannot create groups in " + dir + ": mounted read-only (Read-only file system)";
        } else if (writable(dir)) {
            base = dir;
        } else {
            // not root: the topmost directory on the way down to our own group that we may write (delegation)
            if (ownDir != null) {
                for (Path d = dir; base == null && !d.equals(ownDir); ) {
                    d = d.resolve(ownDir.getName(d.getNameCount()));
                    if (writable(d)) {
                        base = d;
                    }
                }
            }
            if (base == null) {
                problem = "cannot create groups in " + dir + ": Permission denied (not root, and no delegated subtree"
                        + (ownDir != null && !ownDir.equals(dir) ? " above " + ownDir : "") + ")";
            }
        }
        Set<String> controllers = m.controllers();
        if (m.v2()) {
            Path at = base != null ? base : dir;
            controllers = readable(at.resolve("cgroup.controllers"))
                    ? V2Backend.words(CgroupFs.read(at.resolve("cgroup.controllers"))) : Set.of();
        }
        return new Hierarchy(m, backend, dir, ownDir, base, controllers, nested, problem);
    }

    /** A process's own group as a directory, if it lies below the mount's root. */
    static Path ownDir(Path dir, String mountRoot, String ownPath) {
        if (ownPath == null || ownPath.contains("/..")) {
            return null; // outside our cgroup namespace
        }
        String rel;
        if (mountRoot.equals("/")) {
            rel = ownPath;
        } else if (ownPath.equals(mountRoot) || ownPath.startsWith(mountRoot + "/")) {
            rel = ownPath.substring(mountRoot.length());
        } else {
            return null;
        }
        rel = rel.replaceAll("^/+", "");
        return rel.isEmpty() ? dir : dir.resolve(rel);
    }

    /** cgroup v2's no-internal-process rule bites a non-root base that holds processes and lacks controllers. */
    private static String internalProcesses(Hierarchy h, Set<String> needed) {
        try {
            return internalProcesses(h.base(), needed);
        } catch (KvmtoolException e) {
            return e.getMessage(); // detection never throws: what it cannot read makes the host unusable
        }
    }

    private static String internalProcesses(Path base, Set<String> needed) {
        if (needed.isEmpty() || !Files.exists(base.resolve("cgroup.type"))) {
            return null; // nothing to enable, or the real root (exempt from the rule)
        }
        Set<String> enabled = V2Backend.words(CgroupFs.read(base.resolve("cgroup.subtree_control")));
        if (enabled.containsAll(needed)) {
            return null;
        }
        String procs = CgroupFs.read(base.resolve("cgroup.procs")).trim();
        if (procs.isEmpty()) {
            return null;
        }
        Set<String> missing = new TreeSet<>(needed);
        missing.removeAll(enabled);
        return "cannot enable " + missing.stream().map(c -> "+" + c).collect(Collectors.joining(" ")) + " in "
                + base.resolve("cgroup.subtree_control") + ": the group holds processes (" + procs.replace('\n', ' ')
                + ") and cgroup v2 gives controllers only to groups without processes of their own";
    }

    private static Set<String> controllersOf(Map<String, Hierarchy> byController, Hierarchy h) {
        Set<String> set = new TreeSet<>();
        byController.forEach((c, x) -> {
            if (x == h && !c.equals("cpuacct")) {
                set.add(c);
            }
        });
        return set;
    }

    private static boolean readable(Path file) {
        return Files.isReadable(file);
    }

    static boolean writable(Path dir) {
        return Files.isWritable(dir) && Files.isWritable(dir.resolve("cgroup.procs"));
    }

    private static Hierarchy v1With(List<Hierarchy> v1, String controller) {
        return v1.stream().filter(h -> h.controllers().contains(controller)).findFirst().orElse(null);
    }

    private static void put(Map<String, Hierarchy> map, String controller, Hierarchy h) {
        if (h != null) {
            map.put(controller, h);
        }
    }

    private static List<CgroupMount> preferSysFsCgroup(List<CgroupMount> mounts) {
        List<CgroupMount> sorted = new ArrayList<>(mounts);
        sorted.sort((a, b) -> Boolean.compare(!a.mountPoint().startsWith(HostPaths.SYS_FS_CGROUP),
                !b.mountPoint().startsWith(HostPaths.SYS_FS_CGROUP)));
        return sorted;
    }

    /** /proc/self/cgroup: "ID:CONTROLLERS:PATH" lines, keyed by CONTROLLERS ("" for v2). */
    static Map<String, String> selfCgroup(Path file) {
        Map<String, String> self = new HashMap<>();
        String text;
        try {
            text = CgroupFs.readRaw(file);
        } catch (IOException e) {
            return self;
        }
        for (String line : text.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length == 3) {
                Set<String> keys = new TreeSet<>(List.of(f[1].split(",")));
                String name = keys.stream().filter(k -> k.startsWith("name=")).findFirst().orElse(null);
                keys.removeIf(k -> k.startsWith("name=") || k.isEmpty());
                String key = String.join(",", keys);
                if (name != null) {
                    key = key.isEmpty() ? name : key + "," + name;
                }
                self.put(key, f[2].trim());
            }
        }
        return self;
    }
}
