package org.kvmtool.manager.xml;

/**
 * libvirt's memory units (virScaleInteger): no unit = KiB; b/byte/bytes; k, M, G, T, P, E alone or with
 * "iB" are powers of 1024, with "B" powers of 1000; case does not matter. Sizes are kept as bytes rounded
 * up to whole KiB, which is what libvirt keeps and writes back.
 */
final class Units {
    /** libvirt's own ceiling for memory sizes (VIR_DOMAIN_MEMORY_PARAM_UNLIMITED), in KiB. */
    static final long MAX_KIB = 9_007_199_254_740_991L;
    static final long MAX_BYTES = MAX_KIB * 1024;

    private Units() {
    }

    /** The size in bytes, rounded up to a whole KiB. */
    static long bytes(String text, String unit, Pos where) {
        String digits = text == null ? "" : text.trim();
        if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw Problems.invalid(where, text == null ? "" : text, "a size is a whole non-negative number");
        }
        long scale = scale(unit, where.attribute("unit"));
        long value;
        try {
            value = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw Problems.invalid(where, digits, "too large");
        }
        if (value > MAX_BYTES / scale) {
            throw Problems.invalid(where, digits, "too large: at most " + MAX_KIB + " KiB");
        }
        long bytes = value * scale;
        return (bytes + 1023) / 1024 * 1024;
    }

    private static long scale(String unit, Pos where) {
        if (unit == null || unit.isEmpty()) {
            return 1024;
        }
        if (unit.equalsIgnoreCase("b") || unit.equalsIgnoreCase("byte") || unit.equalsIgnoreCase("bytes")) {
            return 1;
        }
        long base;
        if (unit.length() == 1 || unit.substring(1).equalsIgnoreCase("iB")) {
            base = 1024;
        } else if (unit.length() == 2 && Character.toLowerCase(unit.charAt(1)) == 'b') {
            base = 1000;
        } else {
            throw Problems.invalid(where, unit, "unknown unit (b, KiB, k, KB, MiB, M, MB, GiB, G, GB, TiB, T, TB, ...)");
        }
        int power = "kmgtpe".indexOf(Character.toLowerCase(unit.charAt(0)));
        if (power < 0) {
            throw Problems.invalid(where, unit, "unknown unit (b, KiB, k, KB, MiB, M, MB, GiB, G, GB, TiB, T, TB, ...)");
        }
        long scale = 1;
        for (int i = 0; i <= power; i++) {
            scale *= base;
        }
        return scale;
    }
}
