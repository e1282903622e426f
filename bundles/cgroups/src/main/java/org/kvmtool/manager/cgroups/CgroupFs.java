package org.kvmtool.manager.cgroups;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Every read, write, mkdir and rmdir on a cgroup file goes through here, so that every failure becomes one
 * SYSTEM_ERROR naming the file and the errno text ("Permission denied", "Device or resource busy"), in one
 * place. The JDK already carries the errno: as the exception type (EACCES, ENOENT, EEXIST, ENOTEMPTY) or as
 * strerror text (any other errno).
 */
final class CgroupFs {
    private CgroupFs() {
    }

    static String read(Path file) {
        try {
            return readRaw(file);
        } catch (IOException e) {
            throw error("cannot read " + file, e);
        }
    }

    /**
     * Reads a kernel file with large read(2)s from offset 0. Not Files.readString: kernel files report size 0,
     * so it reads 1 byte first and then the rest at offset 1, which some kernel files answer with EOF (all of
     * /proc/sys: it returned "3" for pid_max 32768 here) and which costs a second system call on every file.
     */
    static String readRaw(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            // figures are a few bytes, v1's memory.stat about 1 KiB: start small, grow when full
            ByteBuffer buffer = ByteBuffer.allocate(2048);
            while (channel.read(buffer) >= 0) {
                if (!buffer.hasRemaining()) {
                    ByteBuffer bigger = ByteBuffer.allocate(buffer.capacity() * 2);
                    buffer.flip();
                    bigger.put(buffer);
                    buffer = bigger;
                }
            }
            return new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
        }
    }

    static long readLong(Path file) {
        String text = read(file).trim();
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "unexpected content in " + file + ": '" + text + "'", e);
        }
    }

    /**
     * The value of {@code key} in a flat-keyed text ("key value" lines: memory.stat, cpu.stat), or
     * {@code absent}. Scans for the one key instead of parsing the whole file: v1's memory.stat has ~40 lines.
     */
    static long keyed(String text, String key, long absent) {
        for (int at = text.indexOf(key); at >= 0; at = text.indexOf(key, at + 1)) {
            int end = at + key.length();
            if ((at == 0 || text.charAt(at - 1) == '\n') && end < text.length() && text.charAt(end) == ' ') {
                int eol = text.indexOf('\n', end);
                return Long.parseLong(text.substring(end + 1, eol < 0 ? text.length() : eol).trim());
            }
        }
        return absent;
    }

    /** The value of one key of a flat-keyed file; SYSTEM_ERROR naming the file when it is absent. */
    static long readKey(Path file, String key) {
        long value = keyed(read(file), key, -1);
        if (value < 0) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "no '" + key + "' in " + file);
        }
        return value;
    }

    /**
     * Writes with one write(2), as cgroup files want (each write is one command). O_TRUNC so a fixture's plain
     * file holds just the value; cgroupfs ignores it. Never creates: a missing file means a missing controller.
     */
    static void write(Path file, String value) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(value.getBytes(StandardCharsets.US_ASCII));
            int written = channel.write(bytes);
            if (written != bytes.limit()) {
                throw new IOException("short write (" + written + " of " + bytes.limit() + " bytes)");
            }
        } catch (IOException e) {
            throw error("cannot write '" + value + "' to " + file, e);
        }
    }

    /** Creates a directory; false when it already existed (idempotent create). */
    static boolean mkdir(Path dir) {
        try {
            Files.createDirectory(dir);
            return true;
        } catch (FileAlreadyExistsException e) {
            if (Files.isDirectory(dir)) {
                return false;
            }
            throw error("cannot create cgroup " + dir, e);
        } catch (IOException e) {
            throw error("cannot create cgroup " + dir, e);
        }
    }

    /** The outcome of one rmdir(2) of a cgroup directory. */
    enum Rmdir { REMOVED, ABSENT, BUSY }

    /** One rmdir(2); BUSY is the kernel's EBUSY (processes or child groups still in it). */
    static Rmdir rmdir(Path dir) {
        try {
            Files.delete(dir);
            return Rmdir.REMOVED;
        } catch (NoSuchFileException e) {
            return Rmdir.ABSENT;
        } catch (IOException e) {
            if (errnoText(e).equals("Device or resource busy")) {
                return Rmdir.BUSY;
            }
            throw error("cannot remove cgroup " + dir, e);
        }
    }

    static KvmtoolException error(String what, IOException e) {
        return new KvmtoolException(ErrorCode.SYSTEM_ERROR, what + ": " + errnoText(e), e);
    }

    /** The strerror text the JDK mapped to an exception type, or carried as the reason. */
    static String errnoText(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "File exists";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "Directory not empty";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
