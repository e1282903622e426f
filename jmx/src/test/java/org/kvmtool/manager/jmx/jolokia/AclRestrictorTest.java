package org.kvmtool.manager.jmx.jolokia;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.kvmtool.manager.jmx.jolokia.JolokiaDoor.status;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import javax.security.auth.Subject;

import org.jolokia.restrictor.Restrictor;
import org.jolokia.util.HttpMethod;
import org.json.simple.JSONArray;
import org.json.simple.JSONObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.testing.FakeDomainDriver;
import org.kvmtool.manager.jmx.TestAccess;

/**
 * The /jolokia door: Jolokia 1.7.1's own pipeline with kvmtool's restrictor, the shipped policy file
 * (config/etc/jolokia-access.xml) and a Karaf security MBean answering as etc/jmx.acl.kvmtool.cfg says.
 */
class AclRestrictorTest {
    static final Path SHIPPED_POLICY = Path.of("..", "config", "etc", "jolokia-access.xml");
    private static final Subject ADMIN = FakeKarafSecurity.subject("admin");
    private static final Subject VIEWER = FakeKarafSecurity.subject("viewer");
    private static final String VM1 = "kvmtool:type=Domain,name=vm1";

    /** Karaf 4.4's own jmx.acl PIDs and ours: nothing below kvmtool.Domain, so Domain MBeans share answers. */
    static final List<String> KARAF_PIDS = List.of("jmx.acl", "jmx.acl.java.lang.Memory", "jmx.acl.kvmtool",
            "jmx.acl.org.apache.karaf.bundle", "jmx.acl.org.apache.karaf.config",
            "jmx.acl.org.apache.karaf.security.jmx", "jmx.acl.osgi.compendium.cm");
    private final List<String> pids = new java.util.concurrent.CopyOnWriteArrayList<>(KARAF_PIDS);
    /** Config Admin's change count of every jmx.acl PID here: an edit of an ACL file bumps it. */
    private final java.util.concurrent.atomic.AtomicLong aclEdits = new java.util.concurrent.atomic.AtomicLong();
    private final AclLayout LAYOUT = new AclLayout(() -> pids.stream()
            .map(p -> new AclLayout.AclPid(p, aclEdits.get(), List.of())).toList());
    private final MBeanServer platform = ManagementFactory.getPlatformMBeanServer();
    private final ObjectName securityName = name("org.apache.karaf:type=security,area=jmx,name=test");
    private final FakeKarafSecurity security = new FakeKarafSecurity();
    private FakeDomainDriver driver;
    private AutoCloseable published;
    private JolokiaDoor jolokia;

    @BeforeEach
    void setUp() throws Exception {
        platform.registerMBean(new StandardMBean(security, FakeKarafSecurityMBean.class), securityName);
        driver = TestAccess.driver();
        published = TestAccess.publish(driver, platform);
        TestAccess.define(driver, "vm1");
        TestAccess.awaitIdle(published);
        jolokia = new JolokiaDoor(restrictor(SHIPPED_POLICY));
    }

    private Restrictor restrictor(Path policy) {
        return new AclRestrictor(RestrictorComponent.loadPolicy(policy),
                new KarafJmxSecurity(platform, "org.apache.karaf:type=security,area=jmx,*"), LAYOUT);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (jolokia != null) {
            jolokia.close();
        }
        if (published != null) {
            published.close();
        }
        if (platform.isRegistered(securityName)) {
            platform.unregisterMBean(securityName);
        }
    }

    @Test
    void aViewerReadsButIsRefusedStartAndWrites() {
        JSONObject read = jolokia.get(VIEWER, null, "read/" + VM1 + "/State");
        assertEquals(200L, status(read));
        assertEquals("shutoff", read.get("value"));

        JSONObject start = (JSONObject) jolokia.post(VIEWER, null,
                "{\"type\":\"exec\",\"mbean\":\"" + VM1 + "\",\"operation\":\"start\"}");
        assertEquals(403L, status(start));
        assertEquals("java.lang.Exception : Operation start forbidden for MBean kvmtool:name=vm1,type=Domain",
                start.get("error"), "Jolokia names the MBean canonically");
        assertFalse(TestAccess.isRunning(driver, "vm1"));

        assertEquals(403L, status(jolokia.post(VIEWER, null,
                "{\"type\":\"write\",\"mbean\":\"" + VM1 + "\",\"attribute\":\"CpuShares\",\"value\":512}")));
        assertEquals(403L, status(jolokia.post(VIEWER, null, "{\"type\":\"exec\",\"mbean\":\"" + VM1
                + "\",\"operation\":\"consoleLog\",\"arguments\":[100]}")), "the console is for admins");
        assertEquals(403L, status(jolokia.post(VIEWER, null, "{\"type\":\"exec\",\"mbean\":\"kvmtool:type=Manager\","
                + "\"operation\":\"defineDomain\",\"arguments\":[\"<domain/>\"]}")));
    }

    @Test
    void anAdminStartsByPostButNotByGet() {
        JSONObject byGet = jolokia.get(ADMIN, null, "exec/" + VM1 + "/start");
        assertEquals(403L, status(byGet));
        assertTrue(((String) byGet.get("error")).contains("HTTP method get is not allowed"), byGet.toJSONString());
        assertFalse(TestAccess.isRunning(driver, "vm1"), "refused before it ran");
        assertEquals(403L, status(jolokia.get(ADMIN, null, "write/" + VM1 + "/CpuShares/512")));

        JSONObject byPost = (JSONObject) jolokia.post(ADMIN, null,
                "{\"type\":\"exec\",\"mbean\":\"" + VM1 + "\",\"operation\":\"start\"}");
        assertEquals(200L, status(byPost), byPost.toJSONString());
        assertTrue(TestAccess.isRunning(driver, "vm1"));
        JSONObject allowed = jolokia.get(VIEWER, null, "read/" + VM1 + "/AllowedOperations");
        assertEquals(200L, status(allowed), allowed.toJSONString());
        assertEquals(List.of("shutdown", "destroy", "reboot", "suspend", "undefine", "setMemory", "setAutostart",
                "sendConsole", "memoryStats"), allowed.get("value"), "a viewer reads what the running domain admits");
        assertEquals(200L, status(jolokia.post(ADMIN, null,
                "{\"type\":\"write\",\"mbean\":\"" + VM1 + "\",\"attribute\":\"CpuShares\",\"value\":512}")));
        assertEquals(200L, status(jolokia.get(ADMIN, null, "read/" + VM1 + "/CpuShares")),
                "a GET read after a POST exec on the same thread");
        assertEquals(200L, status(jolokia.post(ADMIN, null, "{\"type\":\"exec\",\"mbean\":\"" + VM1
                + "\",\"operation\":\"setMemory(long)\",\"arguments\":[134217728]}")));
    }

    @Test
    void theOperationErrorReachesTheClientAsOneLine() {
        JSONObject answer = (JSONObject) jolokia.post(ADMIN, null,
                "{\"type\":\"exec\",\"mbean\":\"" + VM1 + "\",\"operation\":\"shutdown\"}");
        assertEquals(500L, status(answer));
        assertEquals("java.lang.IllegalStateException : [OPERATION_INVALID] domain is not running",
                answer.get("error"));
        assertNull(answer.get("stacktrace"));
    }

    @Test
    void bulkAndPatternReadsForAViewer() throws Exception {
        TestAccess.define(driver, "vm2");
        TestAccess.start(driver, "vm2");
        TestAccess.awaitIdle(published);
        JSONArray answers = jolokia.bulk(VIEWER, "[{\"type\":\"read\",\"mbean\":\"" + VM1 + "\",\"attribute\":"
                + "[\"State\",\"CpuTimeNanos\",\"MemoryUsageBytes\"]},{\"type\":\"read\",\"mbean\":"
                + "\"kvmtool:type=Manager\",\"attribute\":\"DomainNames\"},{\"type\":\"search\",\"mbean\":"
                + "\"kvmtool:type=Domain,*\"}]");
        assertEquals(3, answers.size());
        for (Object a : answers) {
            assertEquals(200L, status((JSONObject) a), ((JSONObject) a).toJSONString());
        }
        JSONObject pattern = jolokia.get(VIEWER, null, "read/kvmtool:type=Domain,*/State");
        assertEquals(200L, status(pattern), pattern.toJSONString());
        JSONObject values = (JSONObject) pattern.get("value");
        assertEquals(Map.of("State", "running"), values.get("kvmtool:name=vm2,type=Domain"));
    }

    @Test
    void karafIsAskedWhatItsRmiGuardAsks() {
        jolokia.get(VIEWER, null, "read/" + VM1 + "/State");
        jolokia.get(VIEWER, null, "read/" + VM1 + "/Persistent");
        jolokia.post(ADMIN, null, "{\"type\":\"write\",\"mbean\":\"" + VM1 + "\",\"attribute\":\"Autostart\","
                + "\"value\":true}");
        jolokia.post(ADMIN, null, "{\"type\":\"exec\",\"mbean\":\"" + VM1 + "\",\"operation\":\"start\"}");
        jolokia.post(ADMIN, null, "{\"type\":\"exec\",\"mbean\":\"" + VM1
                + "\",\"operation\":\"setMemory(long)\",\"arguments\":[134217728]}");
        assertEquals(List.of(
                "kvmtool:type=Domain,name=vm1 getState[]",
                "kvmtool:type=Domain,name=vm1 isPersistent[]",
                "kvmtool:type=Domain,name=vm1 setAutostart[boolean]",
                "kvmtool:type=Domain,name=vm1 start",
                "kvmtool:type=Domain,name=vm1 setMemory[long]"), security.questions);
    }

    @Test
    void originsOtherThanTheConsolesAreRefusedOnEveryRequest() {
        assertEquals(403L, status(jolokia.get(VIEWER, "http://evil.example", "read/" + VM1 + "/State")));
        assertEquals(403L, status(jolokia.get(VIEWER, "null", "read/" + VM1 + "/State")));
        assertEquals(403L, status(jolokia.post(ADMIN, "http://127.0.0.1:8182",
                "{\"type\":\"exec\",\"mbean\":\"" + VM1 + "\",\"operation\":\"start\"}")));
        assertFalse(TestAccess.isRunning(driver, "vm1"));
        assertEquals(200L, status(jolokia.get(VIEWER, "http://127.0.0.1:8181", "read/" + VM1 + "/State")));
        assertEquals(200L, status(jolokia.get(VIEWER, "http://localhost:8181", "read/" + VM1 + "/State")));
        assertEquals(200L, status(jolokia.get(VIEWER, "http://localhost:8181/hawtio/jmx/attributes",
                "read/" + VM1 + "/State")), "a Referer from the console's pages");
        assertEquals(200L, status(jolokia.get(VIEWER, null, "read/" + VM1 + "/State")), "curl sends no Origin");
    }

    @Test
    void corsAnswersNameOnlyAllowedOrigins() throws Exception {
        Restrictor r = restrictor(SHIPPED_POLICY);
        assertTrue(r.isOriginAllowed("http://127.0.0.1:8181", false));
        assertFalse(r.isOriginAllowed("http://evil.example", false));
        assertFalse(r.isOriginAllowed("*", false));
        assertTrue(r.isHttpMethodAllowed(HttpMethod.GET), "a read may come by GET");
    }

    @Test
    void withoutASubjectOrWithoutKarafNothingIsAllowed() throws Exception {
        assertEquals(403L, status(jolokia.get(null, null, "read/" + VM1 + "/State")), "no JAAS subject");
        platform.unregisterMBean(securityName);
        assertEquals(403L, status(jolokia.get(ADMIN, null, "read/" + VM1 + "/State")), "no security MBean");
        platform.registerMBean(new StandardMBean(security, FakeKarafSecurityMBean.class), securityName);
        assertEquals(200L, status(jolokia.get(ADMIN, null, "read/" + VM1 + "/State")),
                "a refusal Karaf did not give is not remembered");
    }

    @Test
    void aMissingOrBrokenPolicyDeniesEverything(@TempDir Path dir) throws Exception {
        Path broken = Files.writeString(dir.resolve("broken.xml"), "<restrict><cors>");
        for (Path policy : new Path[] {dir.resolve("absent.xml"), broken, null}) {
            try (JolokiaDoor door = new JolokiaDoor(restrictor(policy))) {
                assertEquals(403L, status(door.get(ADMIN, null, "read/" + VM1 + "/State")), String.valueOf(policy));
            }
        }
    }

    @Test
    void thePolicyFileIsFoundInKarafsEtcUnlessConfigured() {
        assertEquals(Path.of("/opt/karaf/etc/jolokia-access.xml"),
                RestrictorComponent.policyFile("", "/opt/karaf/etc"));
        assertEquals(Path.of("/srv/policy.xml"), RestrictorComponent.policyFile(" /srv/policy.xml ", "/x"));
        assertNull(RestrictorComponent.policyFile(null, null));
    }

    @Test
    void oneQuestionPerAttributeServesEveryDomainAndTheNextRequestsUntilTheAclChanges() throws Exception {
        for (int i = 2; i <= 50; i++) {
            TestAccess.define(driver, "vm" + i);
        }
        TestAccess.awaitIdle(published);
        String pattern = "{\"type\":\"read\",\"mbean\":\"kvmtool:type=Domain,*\",\"attribute\":"
                + "[\"State\",\"CpuTimeNanos\",\"MemoryUsageBytes\"]}";
        JSONObject answer = (JSONObject) jolokia.post(VIEWER, null, pattern);
        assertEquals(200L, status(answer));
        assertEquals(50, ((JSONObject) answer.get("value")).size());
        assertEquals(3, security.questions.size(), security.questions.toString());
        assertEquals(200L, status(jolokia.post(VIEWER, null, pattern)));
        assertEquals(200L, status(jolokia.get(VIEWER, null, "read/kvmtool:type=Domain,name=vm7/State")));
        assertEquals(3, security.questions.size(), "the same subject under the same ACL: Karaf's answers hold");

        aclEdits.incrementAndGet();
        assertEquals(200L, status(jolokia.post(VIEWER, null, pattern)));
        assertEquals(6, security.questions.size(), "an edited ACL file: asked again, in the first request after");
        pids.add("jmx.acl.kvmtool.Manager");
        assertEquals(200L, status(jolokia.post(VIEWER, null, pattern)));
        assertEquals(9, security.questions.size(), "a new ACL file: asked again");
    }

    @Test
    void anAnswerForOneSubjectNeverServesAnother() {
        String start = "{\"type\":\"exec\",\"mbean\":\"" + VM1 + "\",\"operation\":\"start\"}";
        String destroy = "{\"type\":\"exec\",\"mbean\":\"" + VM1 + "\",\"operation\":\"destroy\"}";
        assertEquals(200L, status((JSONObject) jolokia.post(ADMIN, null, start)));
        assertEquals(200L, status((JSONObject) jolokia.post(ADMIN, null, destroy)));
        assertEquals(403L, status((JSONObject) jolokia.post(VIEWER, null, start)), "admin's yes is not the viewer's");
        assertEquals(403L, status((JSONObject) jolokia.post(VIEWER, null, start)), "nor the second time");
        assertFalse(TestAccess.isRunning(driver, "vm1"));
        assertEquals(200L, status((JSONObject) jolokia.post(ADMIN, null, start)), "nor the viewer's no admin's");
        assertEquals(3, security.questions.size(), security.questions.toString());
        Subject both = FakeKarafSecurity.subject("viewer", "admin");
        assertEquals(200L, status((JSONObject) jolokia.post(both, null, destroy)));
        assertEquals(4, security.questions.size(), "another set of roles is another subject");
    }

    @Test
    void aPidThatNamesADomainMakesTheRestrictorAskForEach() throws Exception {
        TestAccess.define(driver, "vm2");
        TestAccess.define(driver, "vm3");
        TestAccess.awaitIdle(published);
        pids.add("jmx.acl.kvmtool.Domain.vm2");
        security.lockedMBeans.add("kvmtool:type=Domain,name=vm2");
        JSONArray answers = jolokia.bulk(VIEWER, "[" + read("vm1") + "," + read("vm2") + "," + read("vm3") + "]");
        assertEquals(List.of(200L, 403L, 200L), answers.stream().map(a -> status((JSONObject) a)).toList());
        assertEquals(3, security.questions.size());
    }

    @Test
    void theLayoutSharesOnlyWhenNothingNamesADomain() {
        assertTrue(AclLayout.shareable(KARAF_PIDS, List.of("org.apache.karaf.security.jmx")));
        assertTrue(AclLayout.shareable(List.of("jmx.acl.kvmtool.Domain", "jmx.acl._.Manager"),
                List.of("kvmtool.Domain;getState", "kvmtool")));
        assertFalse(AclLayout.shareable(List.of("jmx.acl.kvmtool.Domain.vm1"), List.of()));
        assertFalse(AclLayout.shareable(List.of("jmx.acl.kvmtool.Domain._"), List.of()));
        assertFalse(AclLayout.shareable(List.of("jmx.acl._.Domain.vm1"), List.of()));
        assertFalse(AclLayout.shareable(List.of("jmx.acl.kvmtool._.my.vm"), List.of()));
        assertFalse(AclLayout.shareable(List.of(), List.of("kvmtool.Domain.vm1;start")));
        assertEquals(AclLayout.Snapshot.UNKNOWN, AclLayout.askForEach().snapshot());
        assertEquals(AclLayout.Snapshot.UNKNOWN, new AclLayout(() -> {
            throw new IllegalStateException("Config Admin went away");
        }).snapshot());
        assertFalse(AclLayout.Snapshot.UNKNOWN.rememberable());
    }

    @Test
    void theFingerprintFollowsEveryPidAndItsChangeCount() {
        AclLayout.AclPid acl = new AclLayout.AclPid("jmx.acl", 1, List.of());
        AclLayout.AclPid kvmtool = new AclLayout.AclPid("jmx.acl.kvmtool", 4, List.of());
        AclLayout.Snapshot before = AclLayout.of(List.of(acl, kvmtool));
        assertTrue(before.domainsShare());
        assertEquals(before, AclLayout.of(List.of(kvmtool, acl)), "the order of the listing does not matter");
        assertFalse(before.equals(AclLayout.of(List.of(acl, new AclLayout.AclPid("jmx.acl.kvmtool", 5, List.of())))));
        assertFalse(before.equals(AclLayout.of(List.of(acl))));
        AclLayout.Snapshot whitelisted = AclLayout.of(List.of(acl, kvmtool,
                new AclLayout.AclPid(AclLayout.WHITELIST_PID, 1, List.of("kvmtool.Domain.vm1"))));
        assertFalse(whitelisted.domainsShare(), "a whitelist key names a domain");
    }

    private static String read(String vm) {
        return "{\"type\":\"read\",\"mbean\":\"kvmtool:type=Domain,name=" + vm + "\",\"attribute\":\"State\"}";
    }

    private static ObjectName name(String s) {
        try {
            return new ObjectName(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
