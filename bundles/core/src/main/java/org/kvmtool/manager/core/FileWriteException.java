package org.kvmtool.manager.core;

import java.nio.file.Path;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * A file of ours (a status file, a definition) could not be written: full disk, read-only directory. The
 * previous file is intact ({@link AtomicFile}). A type, so that layers above tell it apart without reading
 * the message (a start whose status write failed has nothing of lkvm's to explain).
 */
final class FileWriteException extends KvmtoolException {
    private static final long serialVersionUID = 1L;
    private final transient Path target;

    FileWriteException(Path target, String reason, Throwable cause) {
        super(ErrorCode.SYSTEM_ERROR, "cannot write " + target + ": " + reason, cause);
        this.target = target;
    }

    Path target() {
        return target;
    }
}
