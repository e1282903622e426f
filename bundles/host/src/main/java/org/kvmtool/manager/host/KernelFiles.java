package org.kvmtool.manager.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Reads kernel files: with large read(2)s from offset 0, since /proc and sysfs files report size 0 and some
 * answer a read at an offset other than 0 with end-of-file (the same reason as the cgroups bundle's CgroupFs).
 */
final class KernelFiles {
    private KernelFiles() {
    }

    /** The file's text; SYSTEM_ERROR naming the file when it cannot be read. */
    static String read(Path file) {
        try {
            return readRaw(file);
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot read " + file + ": " + reason(e), e);
        }
    }

    /** The file's text, or empty when it is absent or unreadable (optional facts such as DMI fields). */
    static Optional<String> readIfPresent(Path file) {
        try {
            return Optional.of(readRaw(file));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The trimmed first line, or empty when absent, unreadable or blank. */
    static Optional<String> value(Path file) {
        return readIfPresent(file).map(String::trim).filter(s -> !s.isEmpty());
    }

    static Optional<Integer> intValue(Path file) {
        try {
            return value(file).map(Integer::parseInt);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static String readRaw(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            while (channel.read(buffer) >= 0) {
                if (!buffer.hasRemaining()) {
                    ByteBuffer bigger = ByteBuffer.allocate(buffer.capacity() * 2);
                    buffer.flip();
                    bigger.put(buffer);
                    buffer = bigger;
                }
            }
            return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
        }
    }

    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
