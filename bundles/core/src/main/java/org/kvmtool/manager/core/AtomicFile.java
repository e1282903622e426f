package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Whole-file replacement that a crash or a full disk can never leave half done: write a temporary file
 * beside the target, fsync it, rename it over the target, fsync the directory. On any failure the
 * temporary file is removed and the previous target is untouched.
 */
final class AtomicFile {
    /** The file operations, replaceable so tests can simulate ENOSPC halfway through a write. */
    interface Io {
        FileChannel openForWrite(Path p) throws IOException;

        default void move(Path from, Path to) throws IOException {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static final Io REAL = p -> FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);

    private final Io io;

    AtomicFile(Io io) {
        this.io = io;
    }

    /** Fails with {@link FileWriteException}, the previous target intact. */
    void write(Path target, byte[] data) {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp");
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(tmp); // a leftover of a crash between create and rename
            try (FileChannel ch = io.openForWrite(tmp)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            io.move(tmp, target);
            syncDir(dir);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the directory itself is failing; the previous target is still intact
            }
            throw new FileWriteException(target, reason(e), e);
        }
    }

    /** Deletes a file (absent is fine) and makes the deletion durable. */
    void delete(Path target) {
        delete(target, true);
    }

    /** Deletes a file (absent is fine); {@code durable} adds the directory's fsync. */
    void delete(Path target, boolean durable) {
        try {
            if (Files.deleteIfExists(target) && durable) {
                syncDir(target.toAbsolutePath().getParent());
            }
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot delete " + target + ": " + reason(e), e);
        }
    }

    static void syncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** The errno text the JDK put in the message ("No space left on device", "Read-only file system"). */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        String m = e.getMessage();
        if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
