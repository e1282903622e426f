package org.kvmtool.manager.host;

import java.util.LinkedHashMap;
import java.util.Map;

/** /proc/meminfo and /sys/devices/system/node/nodeN/meminfo ("Node 0 MemTotal: ... kB"): field -> KiB. */
final class MemInfo {
    private MemInfo() {
    }

    static Map<String, Long> parse(String text) {
        Map<String, Long> fields = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            String l = line.trim();
            if (l.startsWith("Node ")) {
                // per-node files prefix every line with "Node N "
                String[] p = l.split("\\s+", 3);
                l = p.length == 3 ? p[2] : "";
            }
            int colon = l.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String[] value = l.substring(colon + 1).trim().split("\\s+");
            try {
                fields.put(l.substring(0, colon), Long.parseLong(value[0]));
            } catch (NumberFormatException e) {
                // not a figure: ignored, as libvirt's reader ignores it
            }
        }
        return fields;
    }
}
