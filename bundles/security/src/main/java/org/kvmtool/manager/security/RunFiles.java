package org.kvmtool.manager.security;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ImageLock;

/** The host files a definition's lkvm opens, and the locks its images need. Pure. */
final class RunFiles {
    /** One file lkvm opens: what it is ("kernel", "initrd", "disk"), its path, and whether lkvm writes it. */
    record Wanted(String label, String path, boolean write) {
    }

    private RunFiles() {
    }

    /** The kernel, the initrd and every disk (written unless read-only). 9p directories are not files: never lent. */
    static List<Wanted> of(DomainDefinition def) {
        List<Wanted> out = new ArrayList<>();
        out.add(new Wanted("kernel", def.os().kernel(), false));
        if (def.os().initrd() != null) {
            out.add(new Wanted("initrd", def.os().initrd(), false));
        }
        for (DomainDefinition.Disk d : def.devices().disks()) {
            out.add(new Wanted("disk", d.source(), !d.readOnly()));
        }
        return out;
    }

    /**
     * One lock per image: exclusive for an image lkvm writes, shared for one it only reads. An image named twice
     * gets one lock, exclusive if either use writes (a second lock of one process on one file would refuse itself).
     */
    static List<ImageLock> locks(DomainDefinition def) {
        Map<String, Boolean> byPath = new LinkedHashMap<>();
        for (DomainDefinition.Disk d : def.devices().disks()) {
            byPath.merge(d.source(), !d.readOnly(), Boolean::logicalOr);
        }
        List<ImageLock> out = new ArrayList<>();
        byPath.forEach((path, exclusive) -> out.add(new ImageLock("disk", path, exclusive)));
        return out;
    }
}
