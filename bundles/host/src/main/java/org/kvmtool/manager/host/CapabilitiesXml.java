package org.kvmtool.manager.host;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * libvirt's capabilities XML (capability.rng) for a kvmtool host: a pure function of the host's facts and of
 * what the manager runs. What kvmtool-manager does not do is said as such: an empty {@code <power_management/>}
 * (no node suspend) and {@code <migration_features/>} (no migration).
 */
final class CapabilitiesXml {
    /** cputypes.rng's pattern for a host CPU feature name: cpuinfo flags outside it are left out. */
    private static final Pattern FEATURE = Pattern.compile("[a-zA-Z0-9\\-_]+");

    private CapabilitiesXml() {
    }

    /**
     * @param emulator the lkvm that runs guests, or null when none is available (then no guest is offered)
     * @param dacLabel "+UID:+GID" of the user lkvm runs as, or null when that user cannot be resolved
     */
    static String format(HostFacts h, String emulator, String dacLabel) {
        Xml x = new Xml();
        x.open("capabilities");
        x.open("host");
        if (h.uuid() != null) {
            x.text("uuid", h.uuid());
        }
        x.open("cpu");
        x.text("arch", h.arch());
        if (h.cpu().modelName() != null) {
            x.text("model", h.cpu().modelName());
        }
        if (h.cpu().vendor() != null) {
            x.text("vendor", h.cpu().vendor());
        }
        x.empty("topology", "sockets", h.node().sockets(), "dies", 1, "cores", h.node().cores(), "threads",
                h.node().threads());
        h.cpu().flags().stream().filter(f -> FEATURE.matcher(f).matches()).forEach(f -> x.empty("feature", "name", f));
        x.empty("pages", "unit", "KiB", "size", h.basePageKiB());
        h.hugepageSizes().forEach(s -> x.empty("pages", "unit", "KiB", "size", s));
        x.close();
        x.empty("power_management");
        x.empty("migration_features");
        topology(x, h);
        x.open("secmodel");
        x.text("model", "dac");
        x.text("doi", "0");
        if (dacLabel != null) {
            x.text("baselabel", dacLabel, "type", "kvmtool");
        }
        x.close();
        x.close();
        if (emulator != null) {
            x.open("guest");
            x.text("os_type", "hvm");
            x.open("arch", "name", h.arch());
            x.text("wordsize", HostFacts.wordsize(h.arch()));
            x.text("emulator", emulator);
            // no <machine>: kvmtool has no machine types, and a guest XML without one is what it runs
            x.empty("domain", "type", "kvmtool");
            x.close();
            x.close();
        }
        return x.close().toString();
    }

    private static void topology(Xml x, HostFacts h) {
        Map<Integer, HostCpu> byId = h.cpus().stream().collect(Collectors.toMap(HostCpu::id, Function.identity()));
        x.open("topology");
        x.open("cells", "num", h.cells().size());
        for (Cell cell : h.cells()) {
            x.open("cell", "id", cell.id());
            x.text("memory", cell.totalKiB(), "unit", "KiB");
            cell.pages().forEach((size, count) -> x.text("pages", count, "unit", "KiB", "size", size));
            if (!cell.distances().isEmpty()) {
                x.open("distances");
                cell.distances().forEach((id, value) -> x.empty("sibling", "id", id, "value", value));
                x.close();
            }
            List<Integer> ids = cell.cpus();
            x.open("cpus", "num", ids.size());
            for (int id : ids) {
                HostCpu c = byId.get(id);
                if (c != null && c.hasTopology()) {
                    x.empty("cpu", "id", id, "socket_id", c.socket(), "die_id", c.die(), "core_id", c.core(),
                            "siblings", c.siblings());
                } else {
                    x.empty("cpu", "id", id);
                }
            }
            x.close();
            x.close();
        }
        x.close();
        x.close();
    }
}
