package org.kvmtool.manager.lean.jolokia;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.PrivilegedAction;
import java.util.Set;

import javax.management.ObjectName;
import javax.security.auth.Subject;

import org.jolokia.server.core.service.api.Restrictor;
import org.jolokia.server.core.util.HttpMethod;
import org.jolokia.server.core.util.RequestType;
import org.junit.jupiter.api.Test;
import org.kvmtool.manager.lean.jaas.RolePrincipal;
import org.kvmtool.manager.lean.jaas.UserPrincipal;

/** The decisions, with the distribution's own policy file. */
class RoleRestrictorTest {
    private static final Path POLICY = Path.of("src/main/dist/etc/jolokia-access.xml");
    private static final ObjectName MANAGER = name("kvmtool:type=Manager");
    private static final ObjectName DOMAIN = name("kvmtool:type=Domain,name=vm1");

    private static ObjectName name(String s) {
        try {
            return new ObjectName(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static RoleRestrictor with(String... roles) {
        return new RoleRestrictor(RoleRestrictor.loadPolicy(POLICY.toUri().toString()), () -> Set.of(roles));
    }

    @Test
    void adminMayDoEverything() {
        RoleRestrictor r = with("admin");
        assertTrue(r.isAttributeReadAllowed(DOMAIN, "State"));
        assertTrue(r.isOperationAllowed(DOMAIN, "start"));
        assertTrue(r.isHttpMethodAllowed(HttpMethod.POST));
        assertTrue(r.isOperationAllowed(MANAGER, "defineDomain"));
        assertTrue(r.isHttpMethodAllowed(HttpMethod.POST));
        assertTrue(r.isAttributeWriteAllowed(DOMAIN, "Autostart"));
        assertTrue(r.isHttpMethodAllowed(HttpMethod.POST));
        for (RequestType t : RequestType.values()) {
            assertTrue(r.isTypeAllowed(t), t.getName());
        }
    }

    @Test
    void viewerReadsAndNothingElse() {
        RoleRestrictor r = with("viewer");
        assertTrue(r.isAttributeReadAllowed(DOMAIN, "State"));
        assertTrue(r.isAttributeReadAllowed(MANAGER, "DomainNames"));
        assertTrue(r.isTypeAllowed(RequestType.LIST));
        assertTrue(r.isTypeAllowed(RequestType.SEARCH));
        assertTrue(r.isTypeAllowed(RequestType.NOTIFICATION));
        assertFalse(r.isOperationAllowed(DOMAIN, "consoleLog"));
        assertFalse(r.isOperationAllowed(DOMAIN, "dumpXml"));
        assertFalse(r.isOperationAllowed(DOMAIN, "start"));
        assertFalse(r.isOperationAllowed(MANAGER, "defineDomain"));
        assertFalse(r.isAttributeWriteAllowed(DOMAIN, "Autostart"));
        assertFalse(r.isTypeAllowed(RequestType.EXEC));
        assertFalse(r.isTypeAllowed(RequestType.WRITE));
    }

    @Test
    void aUserWithoutEitherRoleGetsNothing() {
        RoleRestrictor r = with("manager", "ssh");
        assertFalse(r.isAttributeReadAllowed(DOMAIN, "State"));
        assertFalse(r.isTypeAllowed(RequestType.LIST));
        assertFalse(r.isTypeAllowed(RequestType.NOTIFICATION));
        assertFalse(r.isOperationAllowed(DOMAIN, "start"));
    }

    @Test
    void execAndWriteOnlyByPost() {
        RoleRestrictor r = with("admin");
        assertTrue(r.isRemoteAccessAllowed("127.0.0.1"));
        assertTrue(r.isOperationAllowed(DOMAIN, "destroy"));
        assertFalse(r.isHttpMethodAllowed(HttpMethod.GET), "GET exec");
        assertTrue(r.isAttributeWriteAllowed(DOMAIN, "CpuShares"));
        assertFalse(r.isHttpMethodAllowed(HttpMethod.GET), "GET write");
        // the mark is spent by the method check: a read that follows is not affected
        assertTrue(r.isAttributeReadAllowed(DOMAIN, "State"));
        assertTrue(r.isHttpMethodAllowed(HttpMethod.GET), "GET read");
    }

    @Test
    void aNewRequestClearsAStaleMark() {
        RoleRestrictor r = with("admin");
        assertTrue(r.isOperationAllowed(DOMAIN, "destroy"));
        // no method check happened (the request failed in between): the next HTTP request starts clean
        assertTrue(r.isRemoteAccessAllowed("127.0.0.1"));
        assertTrue(r.isHttpMethodAllowed(HttpMethod.GET));
    }

    @Test
    void aRefusedOperationLeavesNoMark() {
        RoleRestrictor r = with("viewer");
        assertFalse(r.isOperationAllowed(DOMAIN, "destroy"));
        assertTrue(r.isHttpMethodAllowed(HttpMethod.GET));
    }

    @Test
    void onlyLoopbackClients() {
        RoleRestrictor r = with("admin");
        assertTrue(r.isRemoteAccessAllowed("127.0.0.1"));
        assertFalse(r.isRemoteAccessAllowed("10.1.2.3"));
    }

    @Test
    void browsersOnlyFromTheAgentsOwnOriginAndNoWildcard() {
        RoleRestrictor r = with("admin");
        assertTrue(r.isOriginAllowed(null, true), "no Origin: not a browser's cross-site request");
        assertFalse(r.isOriginAllowed("http://evil.example", true));
        assertFalse(r.isOriginAllowed("http://evil.example", false));
        assertFalse(r.isOriginAllowed("null", false), "the 'null' origin would be answered with *");
        assertTrue(r.isOriginAllowed("http://127.0.0.1:8778", true));
        assertTrue(r.isOriginAllowed("http://localhost:8778/jolokia/", true), "a Referer of the agent's own pages");
    }

    @Test
    void aMissingPolicyDeniesEvenAdmin() {
        Restrictor policy = RoleRestrictor.loadPolicy(Path.of("no-such-policy.xml").toUri().toString());
        RoleRestrictor r = new RoleRestrictor(policy, () -> Set.of("admin"));
        assertFalse(r.isAttributeReadAllowed(DOMAIN, "State"));
        assertFalse(r.isOperationAllowed(DOMAIN, "start"));
        RoleRestrictor unset = new RoleRestrictor(RoleRestrictor.loadPolicy("classpath:/jolokia-access.xml"), () -> Set.of("admin"));
        assertFalse(unset.isAttributeReadAllowed(DOMAIN, "State"));
    }

    @Test
    @SuppressWarnings("removal")
    void theRolesAreThoseOfTheSubjectTheAgentRunsTheRequestAs() {
        Subject s = new Subject();
        s.getPrincipals().add(new UserPrincipal("ann"));
        s.getPrincipals().add(new RolePrincipal("viewer"));
        s.getPrincipals().add(new RolePrincipal("ops"));
        Set<String> inside = Subject.doAs(s, (PrivilegedAction<Set<String>>) RoleRestrictor::currentRoles);
        assertEquals(Set.of("viewer", "ops"), inside);
        assertEquals(Set.of(), RoleRestrictor.currentRoles(), "outside doAs: no subject, no roles");
    }

    @Test
    void accessOfRoles() {
        assertEquals(Access.ALL, Access.of(Set.of("viewer", "admin")));
        assertEquals(Access.READ, Access.of(Set.of("viewer")));
        assertEquals(Access.NONE, Access.of(Set.of()));
        assertEquals(Access.NONE, Access.of(Set.of("Admin")), "role names are case-sensitive, as in Karaf");
    }
}
