package org.kvmtool.manager.api;

import java.util.Objects;

/**
 * A lock that lkvm itself holds on a disk image for as long as it runs (libvirt's virtlockd, done by the kernel):
 * exclusive for an image it writes, shared for one it only reads. Taken by the exec helper before exec on a
 * descriptor that lkvm inherits, so it survives the manager (restart, bundle update) and ends with lkvm.
 *
 * @param label     what the file is to lkvm, for messages ("disk")
 * @param path      the image
 * @param exclusive true when lkvm opens it read-write: no other domain may then open it at all
 */
public record ImageLock(String label, String path, boolean exclusive) {
    public ImageLock {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(path, "path");
    }
}
