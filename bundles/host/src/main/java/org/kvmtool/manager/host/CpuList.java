package org.kvmtool.manager.host;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** The kernel's CPU list format ("0-3,8,10-11"), as sysfs writes it and libvirt's siblings attribute takes it. */
final class CpuList {
    private CpuList() {
    }

    /** The ids, ascending; an empty or blank text is no CPU. Throws IllegalArgumentException on anything else. */
    static List<Integer> parse(String text) {
        TreeSet<Integer> ids = new TreeSet<>();
        String t = text.trim();
        if (t.isEmpty()) {
            return List.of();
        }
        for (String part : t.split(",")) {
            String p = part.trim();
            int dash = p.indexOf('-');
            if (dash < 0) {
                ids.add(Integer.parseInt(p));
            } else {
                int from = Integer.parseInt(p.substring(0, dash));
                int to = Integer.parseInt(p.substring(dash + 1));
                if (to < from) {
                    throw new IllegalArgumentException("bad CPU range '" + p + "'");
                }
                for (int i = from; i <= to; i++) {
                    ids.add(i);
                }
            }
        }
        return List.copyOf(ids);
    }

    /** The shortest list text: runs of consecutive ids as ranges. */
    static String format(List<Integer> ids) {
        List<Integer> sorted = new ArrayList<>(new TreeSet<>(ids));
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < sorted.size()) {
            int j = i;
            while (j + 1 < sorted.size() && sorted.get(j + 1) == sorted.get(j) + 1) {
                j++;
            }
            if (out.length() > 0) {
                out.append(',');
            }
            out.append(sorted.get(i));
            if (j > i) {
                out.append('-').append(sorted.get(j));
            }
            i = j + 1;
        }
        return out.toString();
    }
}
