package org.kvmtool.manager.lean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may do what over the agent's HTTP endpoint of the running lean distribution: the admin/viewer split
 * of the Karaf distribution, authentication required, POST for changes, no foreign browser origin, no
 * proxying. Needs no lkvm: the MBeans exist without one.
 */
class LeanSecurityIT {
    private static final String MEMORY = "java.lang:type=Memory";

    @TempDir
    static Path tmp;
    private static LeanInstance lean;

    @BeforeAll
    static void start() throws Exception {
        lean = LeanInstance.withoutLkvm(tmp);
        lean.start(Duration.ofSeconds(60));
        driver = LeanInstance.hasDriver(LeanInstance.distribution());
    }

    private static boolean driver;

    private static void assumeDriver() {
        assumeTrue(driver, "this distribution has no driver yet (kvmtool-core or kvmtool-jmx is an empty placeholder)");
    }

    @AfterAll
    static void stop() throws Exception {
        LeanInstance.stopAndClose(lean);
    }

    @Test
    void noCredentialsOrWrongOnesAre401() throws Exception {
        assertEquals(401, lean.anonymous().get("version").httpStatus());
        assertEquals(401, lean.anonymous().read(MEMORY, "Verbose").httpStatus());
        assertEquals(401, lean.admin().as(LeanInstance.ADMIN, "wrong").read(MEMORY, "Verbose").httpStatus());
        assertEquals(401, lean.admin().as("ghost", LeanInstance.ADMIN_PASSWORD).read(MEMORY, "Verbose").httpStatus());
        assertEquals(200, lean.admin().read(MEMORY, "Verbose").httpStatus());
    }

    @Test
    void viewerReadsAttributes() throws Exception {
        assumeDriver();
        Jolokia viewer = lean.viewer();
        assertEquals("kvmtool:///session", viewer.read(LeanInstance.MANAGER, "Uri").value());
        assertTrue(viewer.read(LeanInstance.MANAGER, "DomainNames").value() instanceof List);
        assertEquals(200, viewer.post(Map.of("type", "search", "mbean", "kvmtool:*")).status());
        assertEquals(200, viewer.post(Map.of("type", "list", "path", "kvmtool")).status());
        assertEquals(200, viewer.get("read/" + MEMORY + "/Verbose").status(), "reads also by GET");
    }

    @Test
    void viewerIsRefusedExecAndWrite() throws Exception {
        Jolokia viewer = lean.viewer();
        assertEquals(403, viewer.exec(MEMORY, "gc").status());
        assertEquals(403, viewer.write(MEMORY, "Verbose", false).status());
        assertEquals(200, viewer.read(MEMORY, "Verbose").status());
        assumeDriver();
        Jolokia.Answer define = viewer.exec(LeanInstance.MANAGER, "defineDomain", "<domain type='kvmtool'/>");
        assertEquals(403, define.status(), define.body());
        assertTrue(define.error().contains("forbidden"), define.body());
        assertEquals(403, viewer.exec(LeanInstance.MANAGER, "undefineDomain", "x").status());
    }

    @Test
    void aUserWithNeitherRoleGetsNothing() throws Exception {
        Jolokia nobody = lean.admin().as("nobody", "nobody-pw");
        assertEquals(403, nobody.read(MEMORY, "Verbose").status());
        assertEquals(403, nobody.exec(MEMORY, "gc").status());
    }

    @Test
    void adminChangesOnlyByPost() throws Exception {
        Jolokia admin = lean.admin();
        Jolokia.Answer get = admin.get("exec/" + MEMORY + "/gc");
        assertEquals(403, get.status(), get.body());
        assertTrue(get.error().contains("HTTP method"), get.body());
        assertEquals(403, admin.get("write/" + MEMORY + "/Verbose/false").status());
        assertEquals(200, admin.exec(MEMORY, "gc").status());
        assertEquals(200, admin.write(MEMORY, "Verbose", false).status());
        assumeDriver();
        // the Manager's operations are there for admin (an invalid definition is the driver's error, not a 403)
        Jolokia.Answer bad = admin.exec(LeanInstance.MANAGER, "defineDomain", "<domain/>");
        assertTrue(bad.status() != 403 && bad.status() != 200, bad.body());
    }

    @Test
    void noForeignBrowserOriginAndNoWildcardCors() throws Exception {
        Jolokia admin = lean.admin();
        Jolokia.Answer evil = admin.send(HttpRequest.newBuilder(lean.awaitAgentUrl(Duration.ZERO).resolve("version"))
                .header("Origin", "http://evil.example"));
        assertEquals(403, evil.status(), evil.body());
        Jolokia.Answer referer = admin.send(HttpRequest.newBuilder(lean.awaitAgentUrl(Duration.ZERO).resolve("version"))
                .header("Referer", "http://evil.example/page"));
        assertEquals(403, referer.status(), referer.body());
    }

    @Test
    void noProxying() throws Exception {
        Jolokia.Answer a = lean.admin().post(Map.of("type", "read", "mbean", MEMORY, "attribute", "Verbose",
                "target", Map.of("url", "service:jmx:rmi:///jndi/rmi://127.0.0.1:1099/jmxrmi")));
        assertEquals(403, a.status(), a.body());
        assertTrue(a.error().contains("not allowed"), a.body());
    }

    /**
     * The launcher starts Declarative Services only once etc/*.cfg is in Config Admin: the driver and the RPC
     * endpoint are activated once, with their configuration, never first with their defaults (which would
     * bind virsh's default socket of the user running the tests).
     */
    @Test
    void eachComponentStartsOnceWithItsConfiguration() throws Exception {
        assumeDriver();
        String log = lean.log();
        List<String> rpc = log.lines().filter(l -> l.contains("serving libvirt clients on")).toList();
        assertEquals(1, rpc.size(), log);
        assertTrue(rpc.get(0).contains(tmp.resolve("rpc.sock").toString()), rpc.get(0));
        assertEquals(1, log.lines().filter(l -> l.contains("kvmtool manager kvmtool:///session")).count(), log);
        assertTrue(log.lines().noneMatch(l -> l.contains("kvmtool manager kvmtool:///system")), log);
    }

    @Test
    void loopbackOnly() throws Exception {
        assertEquals("127.0.0.1", lean.awaitAgentUrl(Duration.ZERO).getHost());
    }
}
