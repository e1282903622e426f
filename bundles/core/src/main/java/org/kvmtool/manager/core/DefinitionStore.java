package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Persistent definitions, one canonical XML file per domain ({@code configDir/NAME.xml}), and autostart as a
 * symlink {@code configDir/autostart/NAME.xml -> ../NAME.xml}, as libvirt lays them out.
 */
final class DefinitionStore {
    private final Path dir;
    private final Path autostartDir;
    private final AtomicFile files;

    DefinitionStore(Path dir, Path autostartDir, AtomicFile files) {
        this.dir = dir;
        this.autostartDir = autostartDir;
        this.files = files;
    }

    Path path(String name) {
        return dir.resolve(name + ".xml");
    }

    void write(String name, String canonicalXml) {
        files.write(path(name), canonicalXml.getBytes(StandardCharsets.UTF_8));
    }

    /** Removes the definition and its autostart link. */
    void delete(String name) {
        setAutostart(name, false);
        files.delete(path(name));
    }

    boolean exists(String name) {
        return Files.isRegularFile(path(name));
    }

    boolean isAutostart(String name) {
        return Files.isSymbolicLink(autostartDir.resolve(name + ".xml")) || Files.exists(autostartDir.resolve(name + ".xml"));
    }

    void setAutostart(String name, boolean on) {
        Path link = autostartDir.resolve(name + ".xml");
        try {
            if (on) {
                Files.createDirectories(autostartDir);
                if (!Files.isSymbolicLink(link)) {
                    Files.createSymbolicLink(link, autostartDir.relativize(path(name)));
                    AtomicFile.syncDir(autostartDir);
                }
            } else if (Files.deleteIfExists(link)) {
                AtomicFile.syncDir(autostartDir);
            }
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR,
                    "cannot " + (on ? "create " : "remove ") + link + ": " + AtomicFile.reason(e), e);
        }
    }

    /** name -> XML of every definition file; unreadable files are reported through {@code bad}. */
    Map<String, String> loadAll(java.util.function.BiConsumer<Path, Exception> bad) {
        Map<String, String> out = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.xml")) {
            for (Path p : ds) {
                if (!Files.isRegularFile(p)) {
                    continue;
                }
                String file = p.getFileName().toString();
                try {
                    out.put(file.substring(0, file.length() - 4), Files.readString(p, StandardCharsets.UTF_8));
                } catch (IOException e) {
                    bad.accept(p, e);
                }
            }
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot list " + dir + ": " + AtomicFile.reason(e), e);
        }
        return out;
    }
}
