package org.kvmtool.manager.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Properties;

/**
 * Which domain each deployed file defined. Kept in a file because the domain name must be known when the
 * deployed file is already gone (uninstall), also after a restart of Karaf or of this bundle.
 */
final class DeployedFiles {
    private final Path store;
    private final Properties names = new Properties();

    DeployedFiles(Path store) throws IOException {
        this.store = store;
        if (Files.exists(store)) {
            try (InputStream in = Files.newInputStream(store)) {
                names.load(in);
            }
        }
    }

    synchronized Optional<String> nameOf(Path file) {
        return Optional.ofNullable(names.getProperty(key(file)));
    }

    synchronized void put(Path file, String name) throws IOException {
        names.setProperty(key(file), name);
        save();
    }

    synchronized void remove(Path file) throws IOException {
        names.remove(key(file));
        save();
    }

    private static String key(Path file) {
        return file.toAbsolutePath().normalize().toString();
    }

    /** Atomic replace, so a crash never leaves a half-written map. */
    private void save() throws IOException {
        Files.createDirectories(store.toAbsolutePath().getParent());
        Path tmp = store.resolveSibling(store.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            names.store(out, "deployed domain XML files -> domain names");
        }
        Files.move(tmp, store, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
