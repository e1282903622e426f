package org.kvmtool.manager.xml;

import java.util.HashMap;
import java.util.Map;

/**
 * Where each part of a parsed definition came from, keyed by its canonical path (the path it has in the
 * canonical output, e.g. {@code /domain/devices/disk[2]/source/@file}). The validator asks by canonical
 * path; what it gets is the path and line:column in the user's document (a {@code <serial>} may stand
 * where the canonical output has {@code <console>}). Unknown keys answer the canonical path alone, which
 * is what a definition that did not come from XML gets.
 */
public final class SourceMap {
    /** For definitions built in code: every place is its canonical path, without a line. */
    public static final SourceMap NONE = new SourceMap();

    private final Map<String, Pos> places = new HashMap<>();

    SourceMap() {
    }

    void put(String canonicalPath, Pos actual) {
        places.put(canonicalPath, actual);
    }

    Pos at(String canonicalPath) {
        return places.getOrDefault(canonicalPath, Pos.of(canonicalPath));
    }
}
