package org.kvmtool.manager.cgroups;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One cgroup or cgroup2 line of /proc/self/mountinfo.
 *
 * @param root        the part of the hierarchy this mount shows ("/" unless a subtree was bind-mounted, as
 *                    container runtimes without cgroup namespaces do)
 * @param mountPoint  where it is mounted, as mountinfo writes it (octal escapes decoded)
 * @param v2          cgroup2 (unified) rather than a v1 hierarchy
 * @param controllers v1: the controllers bound to this hierarchy, sorted; v2: empty (read cgroup.controllers)
 * @param name        v1 named hierarchy ("systemd" for name=systemd), or null
 * @param readOnly    mounted read-only (a container that did not delegate cgroups to us)
 */
record CgroupMount(String root, String mountPoint, boolean v2, Set<String> controllers, String name,
                   boolean readOnly) {

    /** The v1 controllers the kernel knows; any other super option is a flag (rw, xattr, name=...). */
    static final Set<String> V1_CONTROLLERS = Set.of("cpu", "cpuacct", "cpuset", "memory", "devices",
            "freezer", "net_cls", "net_prio", "blkio", "perf_event", "hugetlb", "pids", "rdma", "misc");

    CgroupMount {
        controllers = Collections.unmodifiableSortedSet(new TreeSet<>(controllers));
    }

    /** The cgroup mounts of a mountinfo text, in file order. Pure. */
    static List<CgroupMount> parse(String mountinfo) {
        List<CgroupMount> mounts = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            String[] f = line.trim().split(" ");
            int dash = Arrays.asList(f).indexOf("-");
            if (dash < 6 || f.length < dash + 4) {
                continue;
            }
            String fstype = f[dash + 1];
            if (!fstype.equals("cgroup") && !fstype.equals("cgroup2")) {
                continue;
            }
            Set<String> mountOptions = Set.of(f[5].split(","));
            Set<String> superOptions = new LinkedHashSet<>(Arrays.asList(f[dash + 3].split(",")));
            Set<String> controllers = new TreeSet<>();
            String name = null;
            for (String option : superOptions) {
                if (V1_CONTROLLERS.contains(option)) {
                    controllers.add(option);
                } else if (option.startsWith("name=")) {
                    name = option.substring("name=".length());
                }
            }
            boolean v2 = fstype.equals("cgroup2");
            mounts.add(new CgroupMount(unescape(f[3]), unescape(f[4]), v2, v2 ? Set.of() : controllers, name,
                    mountOptions.contains("ro") || superOptions.contains("ro")));
        }
        return mounts;
    }

    /** The key under which /proc/self/cgroup lists this hierarchy ("" for v2, "cpu,cpuacct", "name=systemd"). */
    String selfCgroupKey() {
        if (v2) {
            return "";
        }
        if (name != null) {
            return controllers.isEmpty() ? "name=" + name : String.join(",", controllers) + ",name=" + name;
        }
        return String.join(",", controllers);
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()
                    && s.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
