package org.kvmtool.manager.lean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.lean.jaas.UsersFile;

class FirstAdminTest {
    @TempDir
    Path etc;

    @Test
    void noAdminGetsOneWithARandomPasswordOwnerOnly() throws Exception {
        Files.writeString(etc.resolve("users.properties"), "# only comments\nmonitor = m, viewer\n");
        Path pwFile = FirstAdmin.ensure(etc, new SecureRandom()).orElseThrow();
        String password = Files.readString(pwFile).strip();
        assertEquals(24, password.length());
        UsersFile users = UsersFile.read(etc.resolve("users.properties"));
        assertTrue(users.account("admin").orElseThrow().passwordMatches(password.toCharArray()));
        assertEquals(Set.of("admin", "viewer"), users.account("admin").orElseThrow().roles());
        assertTrue(users.account("monitor").isPresent(), "the existing users stay");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pwFile)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(etc.resolve("users.properties"))));
        assertTrue(FirstAdmin.ensure(etc, new SecureRandom()).isEmpty(), "once only");
    }

    @Test
    void aMissingUsersFileIsCreated() throws Exception {
        assertTrue(FirstAdmin.ensure(etc, new SecureRandom()).isPresent());
        assertTrue(UsersFile.read(etc.resolve("users.properties")).anyoneHas("admin"));
    }

    @Test
    void anAdminThroughAGroupCounts() throws Exception {
        Files.writeString(etc.resolve("users.properties"), "ops = pw, _g_:g\n_g_\\:g = group, admin\n");
        assertFalse(FirstAdmin.ensure(etc, new SecureRandom()).isPresent());
        assertFalse(Files.exists(etc.resolve("admin.password")));
    }

    @Test
    void passwordsDiffer() {
        SecureRandom r = new SecureRandom();
        assertNotEquals(FirstAdmin.password(r), FirstAdmin.password(r));
        assertTrue(FirstAdmin.password(r).matches("[A-Za-z0-9]{24}"));
    }
}
