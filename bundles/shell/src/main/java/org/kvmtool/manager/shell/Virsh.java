package org.kvmtool.manager.shell;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ErrorCode;

/** Pure formatting and parsing the way virsh does it, so operators read what they are used to. */
final class Virsh {
    private Virsh() {
    }

    /** virsh's words for states ("shut off", "in shutdown"), not libvirt's API words. */
    static String stateWord(DomainState state) {
        return switch (state) {
            case RUNNING -> "running";
            case PAUSED -> "paused";
            case SHUTDOWN -> "in shutdown";
            case SHUTOFF -> "shut off";
        };
    }

    /** virsh list: " Id   Name    State" with a dashed rule, columns as wide as their content. */
    static String listTable(List<DomainInfo> domains) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Id", "Name", "State"});
        for (DomainInfo d : domains) {
            rows.add(new String[] {d.id() >= 0 ? Integer.toString(d.id()) : "-", d.name(), stateWord(d.state())});
        }
        int[] width = new int[3];
        for (String[] r : rows) {
            for (int i = 0; i < 3; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (int n = 0; n < rows.size(); n++) {
            String[] r = rows.get(n);
            String line = " " + pad(r[0], width[0]) + "   " + pad(r[1], width[1]) + "   " + r[2];
            out.append(line.stripTrailing()).append('\n');
            if (n == 0) {
                out.append("-".repeat(width[0] + width[1] + width[2] + 9)).append('\n');
            }
        }
        return out.toString();
    }

    /** A "Key:  value" block with aligned values, as dominfo prints it. */
    static String keyValues(List<String[]> pairs) {
        int w = 0;
        for (String[] p : pairs) {
            w = Math.max(w, p[0].length() + 1);
        }
        StringBuilder out = new StringBuilder();
        for (String[] p : pairs) {
            out.append(pad(p[0] + ":", w + 1)).append(p[1]).append('\n');
        }
        return out.toString();
    }

    /**
     * A memory size as virsh setmem/memtune take it: a number in KiB by default, or with a suffix
     * (b, k/KiB, M/MiB, G/GiB, T/TiB; KB/MB/GB/TB in powers of 1000). Returns bytes.
     */
    static long parseSize(String text) {
        String s = text.trim();
        int i = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        if (i == 0) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "invalid size '" + text + "'");
        }
        long n;
        try {
            n = Long.parseLong(s.substring(0, i));
        } catch (NumberFormatException e) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "invalid size '" + text + "'");
        }
        String unit = s.substring(i).trim();
        long mul = switch (unit.toLowerCase(Locale.ROOT)) {
            case "b", "bytes" -> 1L;
            case "", "k", "kib" -> 1L << 10;
            case "kb" -> 1000L;
            case "m", "mib" -> 1L << 20;
            case "mb" -> 1000L * 1000;
            case "g", "gib" -> 1L << 30;
            case "gb" -> 1000L * 1000 * 1000;
            case "t", "tib" -> 1L << 40;
            case "tb" -> 1000L * 1000 * 1000 * 1000;
            default -> throw new KvmtoolException(ErrorCode.INVALID_ARG, "invalid size unit '" + unit + "'");
        };
        try {
            return Math.multiplyExact(n, mul);
        } catch (ArithmeticException e) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "size '" + text + "' is too large");
        }
    }

    /** "name           : value", the layout of virsh schedinfo and memtune. */
    static String field(String name, String value) {
        return String.format(Locale.ROOT, "%-15s: %s", name, value);
    }

    /** Nanoseconds as virsh prints CPU time: "123.5s". */
    static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.1fs", nanos / 1e9);
    }

    private static String pad(String s, int w) {
        return s.length() >= w ? s : s + " ".repeat(w - s.length());
    }
}
