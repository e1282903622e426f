package org.kvmtool.manager.xml;

/** What the readers share: the positions JAXB's listener recorded and the source map they fill. */
final class ReadContext {
    final Positions positions;
    final SourceMap map = new SourceMap();

    ReadContext(Positions positions) {
        this.positions = positions;
    }

    Pos pos(Object node) {
        return positions.of(node);
    }

    /** Where a child that is absent would be: the parent's line, the child's path. */
    Pos child(Object parent, String name) {
        return pos(parent).child(name);
    }

    /** Records where the canonical path {@code key} is in the document. */
    void place(String key, Pos actual) {
        map.put(key, actual);
    }

    static String text(DomainXml.ValueNode node) {
        return node == null ? null : node.value == null ? "" : node.value;
    }

    /** A whole number for counts and shares: digits only, surrounding blanks allowed. */
    static long number(String text, Pos where, long max) {
        String digits = text == null ? "" : text.trim();
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw Problems.invalid(where, text == null ? "" : text, digits.length() > 18 ? "too large" : "a whole non-negative number is expected");
        }
        long v = Long.parseLong(digits);
        if (v > max) {
            throw Problems.invalid(where, digits, "too large: at most " + max);
        }
        return v;
    }
}
