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

    @Test
    void karafsCryptHashesNeverMatch() {
        UsersFile.Account a = UsersFile.parse("u = {CRYPT}3f1c2{CRYPT}, admin").account("u").orElseThrow();
        assertFalse(a.passwordMatches("{CRYPT}3f1c2{CRYPT}".toCharArray()));
    }

    @Test
    void anEmptyPasswordIsAPasswordOnlyForTheEmptyGuess() {
        UsersFile.Account a = UsersFile.parse("u = , viewer").account("u").orElseThrow();
        assertEquals(Set.of("viewer"), a.roles());
        assertFalse(a.passwordMatches("x".toCharArray()));
    }
}
