package org.kvmtool.manager.xml;

import java.util.Set;

/** The element path convention of every message: repeatable elements carry an index, even the first. */
final class Paths {
    static final String DEVICES = "/domain/devices";
    private static final Set<String> SINGLE_DEVICES = Set.of("emulator", "memballoon", "vsock");

    private Paths() {
    }

    static boolean repeatable(String parentPlainPath, String name) {
        return DEVICES.equals(parentPlainPath) && !SINGLE_DEVICES.contains(name)
                || "/domain/os".equals(parentPlainPath) && "boot".equals(name);
    }

    /** {@code /domain/devices/disk[2]} for the second disk (index from 0). */
    static String device(String kind, int index) {
        return DEVICES + "/" + kind + "[" + (index + 1) + "]";
    }
}
