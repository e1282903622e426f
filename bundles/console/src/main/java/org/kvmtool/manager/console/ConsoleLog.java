package org.kvmtool.manager.console;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * A console log file, appended through a buffer and rotated to {@code file.1} when it reaches
 * {@code maxBytes} exactly (so {@code file.1} then {@code file} is the latest output, byte for byte).
 * Used by the drain thread only. Appends reach the page cache at each {@link #flush()}, which the drain
 * thread calls once per wake-up: a few write calls per burst, never per 4 KiB pty read.
 */
final class ConsoleLog implements Closeable {
    private static final int BUFFER_BYTES = 64 * 1024;
    /** Console output may hold secrets: the log is for the manager's user only. */
    private static final FileAttribute<?> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    private static final Set<StandardOpenOption> APPEND =
            EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);

    private final Path file;
    private final Path rotated;
    private final long maxBytes;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
    private FileChannel channel;
    private long size;

    /** @param maxBytes rotation size; 0 or less: never rotate */
    ConsoleLog(Path file, long maxBytes) throws IOException {
        this.file = file;
        this.rotated = file.resolveSibling(file.getFileName() + ".1");
        this.maxBytes = maxBytes;
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        this.channel = openChannel();
        this.size = channel.size(); // a reopened console (manager restart) continues the same file
    }

    private FileChannel openChannel() throws IOException {
        return FileChannel.open(file, APPEND, OWNER_ONLY);
    }

    void append(byte[] data) throws IOException {
        if (data.length > buffer.remaining()) {
            flush();
        }
        if (data.length > buffer.capacity()) {
            writeOut(ByteBuffer.wrap(data));
        } else {
            buffer.put(data);
        }
    }

    void flush() throws IOException {
        if (buffer.position() > 0) {
            buffer.flip();
            writeOut(buffer);
            buffer.clear();
        }
    }

    private void writeOut(ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            if (maxBytes > 0 && size >= maxBytes) {
                rotate();
            }
            int room = maxBytes > 0 ? (int) Math.min(maxBytes - size, src.remaining()) : src.remaining();
            ByteBuffer part = src.slice().limit(room);
            while (part.hasRemaining()) {
                size += channel.write(part);
            }
            src.position(src.position() + room);
        }
    }

    private void rotate() throws IOException {
        channel.close();
        Files.move(file, rotated, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        channel = openChannel();
        size = 0;
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            channel.close();
        }
    }
}
