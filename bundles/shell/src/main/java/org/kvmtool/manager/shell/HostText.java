package org.kvmtool.manager.shell;

import java.util.List;
import java.util.Locale;

import org.kvmtool.manager.api.NodeInfo;

/** The host commands' output, laid out as virsh lays it out. */
final class HostText {
    private HostText() {
    }

    /** virsh nodeinfo: "%-20s %s" per line. */
    static String nodeInfo(NodeInfo n) {
        StringBuilder out = new StringBuilder();
        for (String[] line : List.of(
                new String[] {"CPU model:", n.model()},
                new String[] {"CPU(s):", Integer.toString(n.cpus())},
                new String[] {"CPU frequency:", n.mhz() + " MHz"},
                new String[] {"CPU socket(s):", Integer.toString(n.sockets())},
                new String[] {"Core(s) per socket:", Integer.toString(n.cores())},
                new String[] {"Thread(s) per core:", Integer.toString(n.threads())},
                new String[] {"NUMA cell(s):", Integer.toString(n.nodes())},
                new String[] {"Memory size:", n.memoryKiB() + " KiB"})) {
            out.append(String.format(Locale.ROOT, "%-20s %s", line[0], line[1])).append('\n');
        }
        return out.toString();
    }

    /** virsh freecell --all: one line per cell (id, free KiB), a rule, the total. */
    static String cells(List<Integer> ids, List<Long> freeBytes) {
        StringBuilder out = new StringBuilder();
        long total = 0;
        for (int i = 0; i < ids.size(); i++) {
            out.append(String.format(Locale.ROOT, "%5d: %10d KiB%n", ids.get(i), freeBytes.get(i) / 1024));
            total += freeBytes.get(i);
        }
        out.append("--------------------").append(System.lineSeparator());
        return out.append(String.format(Locale.ROOT, "%5s: %10d KiB%n", "Total", total / 1024)).toString();
    }
}
