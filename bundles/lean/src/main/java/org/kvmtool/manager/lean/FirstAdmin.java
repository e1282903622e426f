package org.kvmtool.manager.lean;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Optional;

import org.kvmtool.manager.lean.jaas.UsersFile;

/**
 * No well-known password, as in the Karaf distribution (its bin/setenv): when etc/users.properties gives no
 * user the admin role, the user {@code admin} is added with a random password, which is also written to
 * etc/admin.password, both readable by their owner only.
 */
final class FirstAdmin {
    static final String USERS = "users.properties";
    static final String PASSWORD_FILE = "admin.password";
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final int LENGTH = 24;

    private FirstAdmin() {
    }

    /** Returns the path of the new password file, or empty when an admin exists or etc/ is read-only. */
    static Optional<Path> ensure(Path etc, SecureRandom random) throws IOException {
        Path users = etc.resolve(USERS);
        if (Files.exists(users) && UsersFile.read(users).anyoneHas("admin")) {
            return Optional.empty();
        }
        if (!Files.isWritable(etc)) {
            return Optional.empty();
        }
        String password = password(random);
        Path passwordFile = etc.resolve(PASSWORD_FILE);
        writeOwnerOnly(passwordFile, password + "\n", false);
        writeOwnerOnly(users, "\n# Created at the first start: the administrator, with a random password (also in "
                + "etc/" + PASSWORD_FILE + ").\nadmin = " + password + ", admin, viewer\n", true);
        return Optional.of(passwordFile);
    }

    static String password(SecureRandom random) {
        StringBuilder b = new StringBuilder(LENGTH);
        for (int i = 0; i < LENGTH; i++) {
            b.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return b.toString();
    }

    private static void writeOwnerOnly(Path file, String text, boolean append) throws IOException {
        if (!Files.exists(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        if (append) {
            Files.writeString(file, text, StandardCharsets.ISO_8859_1, StandardOpenOption.APPEND);
        } else {
            Files.writeString(file, text, StandardCharsets.ISO_8859_1, StandardOpenOption.TRUNCATE_EXISTING);
        }
    }
}
