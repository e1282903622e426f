package org.kvmtool.manager.shell;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** Reads a definition file, refusing what the codec would refuse anyway before loading it whole. */
final class XmlFiles {
    /** The codec's own limit; checked here so a huge file is never read into memory. */
    private static final long MAX_BYTES = 1 << 20;

    private XmlFiles() {
    }

    static String read(Path file) {
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new KvmtoolException(ErrorCode.XML_ERROR, "file " + file + " is larger than 1 MiB");
            }
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "failed to read file '" + file + "': " + e.getMessage(), e);
        }
    }
}
