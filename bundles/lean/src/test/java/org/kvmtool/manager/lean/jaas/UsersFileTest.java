package org.kvmtool.manager.lean.jaas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;

import org.junit.jupiter.api.Test;

class UsersFileTest {
    /** Karaf 4.4's own example lines, enabled. */
    private static final String KARAF = """
            # comment
            karaf = karaf,_g_:admingroup
            _g_\\:admingroup = group,admin,manager,viewer,systembundles,ssh
            """;

    @Test
    void karafsExampleGivesTheGroupsRoles() {
        UsersFile.Account karaf = UsersFile.parse(KARAF).account("karaf").orElseThrow();
        assertEquals(Set.of("admin", "manager", "viewer", "systembundles", "ssh"), karaf.roles());
        assertTrue(karaf.passwordMatches("karaf".toCharArray()));
        assertFalse(karaf.passwordMatches("Karaf".toCharArray()));
        assertFalse(karaf.passwordMatches("".toCharArray()));
    }

    @Test
    void directRolesGroupsAndSpaces() {
        UsersFile f = UsersFile.parse("""
                ann = s3cret , viewer ,  _g_:ops
                bob = pw
                _g_\\:ops = group, admin
                """);
        assertEquals(Set.of("viewer", "admin"), f.account("ann").orElseThrow().roles());
        assertEquals(Set.of(), f.account("bob").orElseThrow().roles());
        assertTrue(f.account("ann").orElseThrow().passwordMatches("s3cret".toCharArray()));
    }

    @Test
    void groupsAreNoUsersAndUnknownUsersAreAbsent() {
        UsersFile f = UsersFile.parse(KARAF);
        assertTrue(f.account("_g_:admingroup").isEmpty());
        assertTrue(f.account("admingroup").isEmpty());
        assertTrue(f.account("nobody").isEmpty());
    }

    @Test
    void anUnknownGroupAddsNothing() {
        assertEquals(Set.of("viewer"), UsersFile.parse("u = p, viewer, _g_:missing").account("u").orElseThrow().roles());
    }

    /** What Karaf writes with encryption.enabled = true and its defaults (SHA-256, hexadecimal). */
    @Test
    void karafsDigestsMatchThePasswordNotTheDigest() {
        // printf %s secret | sha256sum
        String hex = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
        UsersFile.Account a = UsersFile.parse("u = {CRYPT}" + hex + "{CRYPT}, admin").account("u").orElseThrow();
        assertTrue(a.passwordMatches("secret".toCharArray()));
        assertFalse(a.passwordMatches(("{CRYPT}" + hex + "{CRYPT}").toCharArray()));
        assertFalse(a.passwordMatches("Secret".toCharArray()));
        UsersFile.Account upper = UsersFile.parse("u = {CRYPT}" + hex.toUpperCase() + "{CRYPT}").account("u").orElseThrow();
        assertTrue(upper.passwordMatches("secret".toCharArray()), "hexadecimal compares case-insensitively, as Karaf");
    }

    @Test
    void base64DigestsAndOtherAlgorithms() {
        PasswordDigest b64 = new PasswordDigest("SHA-512", "base64");
        String stored = b64.crypt("pw");
        assertTrue(stored.startsWith("{CRYPT}") && stored.endsWith("{CRYPT}") && stored.contains("="));
        assertTrue(b64.matches(stored, "pw".toCharArray()));
        assertFalse(b64.matches(stored.toLowerCase(), "pw".toCharArray()), "base64 is case-sensitive");
        assertFalse(PasswordDigest.KARAF_DEFAULT.matches(stored, "pw".toCharArray()));
    }

    @Test
    void roles() {
        UsersFile f = UsersFile.parse(KARAF);
        assertTrue(f.anyoneHas("admin"));
        assertFalse(f.anyoneHas("root"));
        assertFalse(UsersFile.parse("#admin = x, admin\n").anyoneHas("admin"));
    }

    @Test
    void anEmptyPasswordIsAPasswordOnlyForTheEmptyGuess() {
        UsersFile.Account a = UsersFile.parse("u = , viewer").account("u").orElseThrow();
        assertEquals(Set.of("viewer"), a.roles());
        assertFalse(a.passwordMatches("x".toCharArray()));
    }
}
