package org.kvmtool.manager.xml;

/**
 * Where something is: an element path such as {@code /domain/devices/disk[2]/target} (an attribute is
 * {@code .../@bus}) and, when it came from a document, the line and column of its start tag (0 = unknown).
 */
record Pos(String path, int line, int column) {

    static Pos of(String path) {
        return new Pos(path, 0, 0);
    }

    /** The same place, one attribute further. */
    Pos attribute(String name) {
        return new Pos(path + "/@" + name, line, column);
    }

    /** The same line:column under another path (a child without its own position). */
    Pos child(String name) {
        return new Pos(path + "/" + name, line, column);
    }

    /** "PATH (line L:C)" or just "PATH". */
    String describe() {
        return line > 0 ? path + " (line " + line + ":" + column + ")" : path;
    }
}
