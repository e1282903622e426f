package org.kvmtool.manager.security;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * What a domain's run may have lent, one file per domain ({@code STATE_DIR/NAME}), written and synced to disk
 * before any file is changed and deleted only once all are given back: whatever moment the manager dies at,
 * its next activation knows every file to look at. Lines "DEV INO r|rw PATH": the device and inode tell a file
 * replaced meanwhile from the one that was lent.
 */
record LendRecord(String domain, List<Entry> entries) {
    /** One file: its identity when it was recorded, and whether lkvm writes it. */
    record Entry(long dev, long ino, boolean write, String path) {
    }

    LendRecord {
        entries = List.copyOf(entries);
    }

    static Path path(Path stateDir, String domain) {
        return stateDir.resolve(domain);
    }

    static String format(LendRecord r) {
        StringBuilder b = new StringBuilder("# kvmtool-manager: files lent to lkvm's user for domain " + r.domain()
                + ", given back when its run ends\n");
        for (Entry e : r.entries()) {
            b.append(e.dev()).append(' ').append(e.ino()).append(' ').append(e.write() ? "rw" : "r").append(' ')
                    .append(e.path()).append('\n');
        }
        return b.toString();
    }

    static LendRecord parse(String domain, String text) {
        List<Entry> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split(" ", 4);
            if (f.length != 4 || !(f[2].equals("r") || f[2].equals("rw"))) {
                throw new IllegalArgumentException("malformed line: " + line);
            }
            out.add(new Entry(Long.parseLong(f[0]), Long.parseLong(f[1]), f[2].equals("rw"), f[3]));
        }
        return new LendRecord(domain, out);
    }

    /** Writes it durably: a temp file synced, renamed over, the directory synced. */
    void write(Path stateDir) {
        Path target = path(stateDir, domain);
        Path tmp = stateDir.resolve("." + domain + ".tmp");
        try {
            Files.createDirectories(stateDir);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(format(this).getBytes(StandardCharsets.UTF_8));
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDir(stateDir);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the failure below is what matters
            }
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot record the files lent for domain '" + domain
                    + "' in " + target + ": " + reason(e) + " (nothing was lent)", e);
        }
    }

    /** The record of {@code domain}, if there is one. */
    static Optional<LendRecord> read(Path stateDir, String domain) throws IOException {
        try {
            return Optional.of(parse(domain, Files.readString(path(stateDir, domain), StandardCharsets.UTF_8)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    static boolean exists(Path stateDir, String domain) {
        return Files.exists(path(stateDir, domain));
    }

    static void delete(Path stateDir, String domain) throws IOException {
        Files.deleteIfExists(path(stateDir, domain));
    }

    /** The domains that have a record. */
    static List<String> domains(Path stateDir) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(stateDir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(stateDir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (DomainDefinition.NAME_PATTERN.matcher(n).matches()) {
                    out.add(n);
                }
            }
        }
        out.sort(null);
        return out;
    }

    private static void syncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    static String reason(IOException e) {
        return e instanceof NoSuchFileException ? "No such file or directory"
                : e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
