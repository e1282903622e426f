package org.kvmtool.manager.cgroups;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.kvmtool.manager.api.CgroupSupport;

/**
 * The host's cgroup layout as detected once: which hierarchy serves each controller we use, and whether
 * groups can be created there.
 *
 * @param layout       "unified", "legacy", "hybrid" or "none"
 * @param byController "cpu", "cpuacct", "memory" to the hierarchy holding it (absent: controller missing)
 * @param systemd      systemd manages the tree (init.scope at the base): groups go under machine.slice
 * @param container    inside a container (the visible root is not the host's root)
 * @param usable       groups can be created in every hierarchy of {@code byController}
 * @param reason       why not usable; when usable, notes worth showing (missing controller, container,
 *                     delegated subtree), or ""
 */
record HostLayout(String layout, Map<String, Hierarchy> byController, boolean systemd, boolean container,
                  boolean usable, String reason) {
    static final List<String> CONTROLLERS = List.of("cpu", "cpuacct", "memory");

    HostLayout {
        byController = Map.copyOf(byController);
    }

    /** The distinct hierarchies a domain's group spans, in a stable order (cpu, cpuacct, memory). */
    List<Hierarchy> used() {
        List<Hierarchy> used = new ArrayList<>();
        for (String c : CONTROLLERS) {
            Hierarchy h = byController.get(c);
            if (h != null && !used.contains(h)) {
                used.add(h);
            }
        }
        return used;
    }

    /** The hierarchy a group directory lies in, or null. */
    Hierarchy holding(Path groupDir) {
        Hierarchy best = null;
        for (Hierarchy h : used()) {
            if (groupDir.startsWith(h.dir()) && (best == null || h.dir().getNameCount() > best.dir().getNameCount())) {
                best = h;
            }
        }
        return best;
    }

    CgroupSupport support() {
        Map<String, String> controllers = new LinkedHashMap<>();
        byController.forEach((c, h) -> controllers.put(c, h.label()));
        return new CgroupSupport(layout, controllers, usable, reason);
    }
}
