package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import javax.management.AttributeChangeNotification;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanServer;
import javax.management.MBeanServerConnection;
import javax.management.Notification;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.openmbean.ArrayType;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The JMX contract in the distribution, through its three doors: Karaf's RMI connector (JConsole, VisualVM),
 * /jolokia (kvmtool's restrictor) and /hawtio/jolokia (Hawtio's RBACRestrictor). The same roles hold on each:
 * a viewer reads attributes, only an admin writes, invokes or reads the console. Domains run on the lkvm
 * stand-in.
 */
public class JmxDoorsIT extends KarafTestSupport {
    private static final String MANAGER = "kvmtool:type=Manager";
    private static final Duration WAIT = Duration.ofSeconds(30);

    /** Session mode: lkvm runs as the manager's user (system mode would want the host's lkvm.user). */
    @Override
    protected Map<String, String> managerConfig(Path work) {
        Map<String, String> config = super.managerConfig(work);
        config.put("uri", "kvmtool:///session");
        return config;
    }

    @Before
    public void bootFinished() throws Exception {
        awaitBootFinished();
        assertTrue("kvmtool-core (the driver) is not in this distribution yet: these tests need it",
                driverLanded(bundleContext));
        awaitTrue("the Manager MBean", () -> platform().isRegistered(name(MANAGER)));
        awaitRmiConnector();
    }

    /**
     * lkvm outlives the manager by design (it is adopted at the next start), so a test that failed half-way
     * would leave its guests running after Karaf stops: end and remove every domain.
     */
    @After
    public void removeEveryDomain() {
        removeAll(platform());
    }

    static void removeAll(MBeanServer server) {
        if (!server.isRegistered(name(MANAGER))) {
            return;
        }
        try {
            for (String vm : (String[]) server.getAttribute(name(MANAGER), "ActiveDomainNames")) {
                quietly(() -> server.invoke(domainName(vm), "destroy", null, null));
            }
            for (String vm : (String[]) server.getAttribute(name(MANAGER), "DomainNames")) {
                quietly(() -> server.invoke(name(MANAGER), "undefineDomain", new Object[] {vm},
                        new String[] {String.class.getName()}));
            }
        } catch (Exception e) {
            throw new AssertionError("cannot clean up the domains", e);
        }
    }

    interface Call {
        Object call() throws Exception;
    }

    private static void quietly(Call call) {
        try {
            call.call();
        } catch (Exception alreadyGone) {
            // ended or removed meanwhile
        }
    }

    /**
     * Karaf restarts its management bundle during the boot's second stage; for a moment after BootFinished the
     * RMI registry may still hand out the stub of the stopped connector (NoSuchObjectException).
     */
    private static void awaitRmiConnector() throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (true) {
            try (JMXConnector c = connect(ADMIN_USER, ADMIN_PASSWORD)) {
                c.getMBeanServerConnection().getMBeanCount();
                return;
            } catch (java.io.IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(250);
            }
        }
    }

    /** False only while kvmtool-core is the empty skeleton of the reactor (no driver class in it). */
    static boolean driverLanded(org.osgi.framework.BundleContext context) {
        return Arrays.stream(context.getBundles()).filter(b -> "kvmtool-core".equals(b.getSymbolicName()))
                .anyMatch(b -> b.getEntry("org/kvmtool/manager/core/KvmtoolDriver.class") != null);
    }

    // ------------------------------------------------------------------------------ the contract's shape

    @Test
    public void everyAttributeOfTheContractIsThereWithItsOpenType() throws Exception {
        define("shape");
        Map<String, OpenType<?>> manager = new TreeMap<>(Map.of("Uri", SimpleType.STRING, "Version", SimpleType.STRING,
                "HypervisorBinary", SimpleType.STRING, "HypervisorVersion", SimpleType.STRING,
                "HypervisorAvailable", SimpleType.BOOLEAN, "DomainNames", ArrayType.getArrayType(SimpleType.STRING),
                "ActiveDomainNames", ArrayType.getArrayType(SimpleType.STRING)));
        assertAttributes(platform().getMBeanInfo(name(MANAGER)), manager, Set.of());

        Map<String, OpenType<?>> domain = new TreeMap<>();
        for (String s : List.of("Name", "Uuid", "State", "StateReason", "ConsolePath")) {
            domain.put(s, SimpleType.STRING);
        }
        for (String s : List.of("Persistent", "Autostart")) {
            domain.put(s, SimpleType.BOOLEAN);
        }
        for (String s : List.of("Pid", "MaxMemoryBytes", "CurrentMemoryBytes", "MemoryUsageBytes", "MemoryLimitBytes",
                "CpuTimeNanos", "CpuShares", "UptimeSeconds")) {
            domain.put(s, SimpleType.LONG);
        }
        domain.put("Vcpus", SimpleType.INTEGER);
        domain.put("VcpuThreadIds", ArrayType.getPrimitiveArrayType(long[].class));
        domain.put("AllowedOperations", ArrayType.getArrayType(SimpleType.STRING));
        MBeanInfo info = platform().getMBeanInfo(domainName("shape"));
        assertAttributes(info, domain, Set.of("Autostart", "CpuShares", "MemoryLimitBytes"));
        Map<String, String> operations = Arrays.stream(info.getOperations()).collect(Collectors.toMap(
                MBeanOperationInfo::getName, o -> Arrays.stream(o.getSignature()).map(p -> p.getType())
                        .collect(Collectors.joining(",", "(", ")")) + o.getReturnType()));
        assertEquals(new TreeMap<>(Map.ofEntries(Map.entry("start", "()void"), Map.entry("shutdown", "()void"),
                Map.entry("destroy", "()void"), Map.entry("reboot", "()void"), Map.entry("suspend", "()void"),
                Map.entry("resume", "()void"), Map.entry("setMemory", "(long)void"), Map.entry("undefine", "()void"),
                Map.entry("dumpXml", "()java.lang.String"), Map.entry("consoleLog", "(int)java.lang.String"),
                Map.entry("sendConsole", "(java.lang.String)void"))), new TreeMap<>(operations));
        undefine("shape");
    }

    // ------------------------------------------------------------------------------ /jolokia

    @Test
    public void theWholeLifecycleOverJolokia() throws Exception {
        String vm = "kvmtool:type=Domain,name=j1";
        HttpAnswer defined = jolokiaExec(MANAGER, "defineDomain", ADMIN_USER, ADMIN_PASSWORD, json(xml("j1")));
        assertValue(defined, "\"value\":\"j1\"");
        awaitTrue("j1 registered", () -> platform().isRegistered(domainName("j1")));

        assertValue(jolokiaPost("{\"type\":\"search\",\"mbean\":\"kvmtool:type=Domain,*\"}", VIEWER_USER,
                VIEWER_PASSWORD), "kvmtool:name=j1,type=Domain");
        assertValue(jolokiaRead(vm, "State", VIEWER_USER, VIEWER_PASSWORD), "\"value\":\"shutoff\"");
        assertValue(jolokiaRead(vm, "AllowedOperations", VIEWER_USER, VIEWER_PASSWORD),
                "\"value\":[\"start\",\"undefine\",\"setMemory\",\"setAutostart\"]");

        assertValue(jolokiaExec(vm, "start", ADMIN_USER, ADMIN_PASSWORD), "\"status\":200");
        assertValue(jolokiaRead(vm, "State", VIEWER_USER, VIEWER_PASSWORD), "\"value\":\"running\"");
        HttpAnswer bulk = jolokiaPost("[{\"type\":\"read\",\"mbean\":\"" + vm + "\",\"attribute\":[\"State\","
                + "\"CpuTimeNanos\",\"MemoryUsageBytes\",\"Pid\"]},{\"type\":\"read\",\"mbean\":\"" + MANAGER
                + "\",\"attribute\":\"ActiveDomainNames\"}]", VIEWER_USER, VIEWER_PASSWORD);
        assertEquals(bulk.body(), 200, bulk.status());
        assertFalse(bulk.body(), bulk.body().contains("\"status\":4") || bulk.body().contains("\"status\":5"));
        assertTrue(bulk.body(), bulk.body().contains("\"State\":\"running\"") && bulk.body().contains("\"j1\""));

        assertValue(jolokiaExec(vm, "suspend", ADMIN_USER, ADMIN_PASSWORD), "\"status\":200");
        assertValue(jolokiaRead(vm, "StateReason", VIEWER_USER, VIEWER_PASSWORD), "\"value\":\"user\"");
        assertValue(jolokiaRead(vm, "AllowedOperations", VIEWER_USER, VIEWER_PASSWORD), "\"value\":[\"destroy\","
                + "\"resume\",\"undefine\",\"setMemory\",\"setAutostart\",\"sendConsole\"]");
        assertValue(jolokiaExec(vm, "resume", ADMIN_USER, ADMIN_PASSWORD), "\"status\":200");
        assertValue(jolokiaPost("{\"type\":\"write\",\"mbean\":\"" + vm + "\",\"attribute\":\"CpuShares\","
                + "\"value\":512}", ADMIN_USER, ADMIN_PASSWORD), "\"status\":200");
        assertValue(jolokiaRead(vm, "CpuShares", VIEWER_USER, VIEWER_PASSWORD), "\"value\":512");
        assertValue(jolokiaExec(vm, "destroy", ADMIN_USER, ADMIN_PASSWORD), "\"status\":200");
        assertValue(jolokiaRead(vm, "StateReason", VIEWER_USER, VIEWER_PASSWORD), "\"value\":\"destroyed\"");

        // Jolokia 1.x has no notifications: the Manager's RecentEvents is the pull feed of the same events
        awaitTrue("the lifecycle in RecentEvents", () -> {
            String body = body(() -> jolokiaRead(MANAGER, "RecentEvents", VIEWER_USER, VIEWER_PASSWORD));
            return body.contains("\"name\":\"j1\"") && body.contains("\"event\":\"started\"")
                    && body.contains("\"detail\":\"destroyed\"");
        });

        assertValue(jolokiaExec(MANAGER, "undefineDomain", ADMIN_USER, ADMIN_PASSWORD, "\"j1\""), "\"status\":200");
        awaitTrue("j1 unregistered", () -> !platform().isRegistered(domainName("j1")));
    }

    @Test
    public void anOperationInvalidInTheStateSaysSoInOneLine() throws Exception {
        define("e1");
        HttpAnswer answer = httpPostJson("/jolokia?includeStackTrace=true&serializeException=true",
                "{\"type\":\"exec\",\"mbean\":\"kvmtool:type=Domain,name=e1\",\"operation\":\"shutdown\"}",
                ADMIN_USER, ADMIN_PASSWORD);
        assertTrue(answer.body(), answer.body().contains(
                "\"error\":\"java.lang.IllegalStateException : [OPERATION_INVALID] domain is not running\""));
        assertFalse("no stack trace", answer.body().contains("stacktrace") || answer.body().contains("org.kvmtool"));
        undefine("e1");
    }

    @Test
    public void execAndWriteNeedPost() throws Exception {
        define("g1");
        HttpAnswer get = httpGet("/jolokia/exec/kvmtool:type=Domain,name=g1/start", ADMIN_USER, ADMIN_PASSWORD);
        assertTrue(get.body(), get.body().contains("\"status\":403"));
        assertEquals("shutoff", platform().getAttribute(domainName("g1"), "State"));
        HttpAnswer write = httpGet("/jolokia/write/kvmtool:type=Domain,name=g1/Autostart/true", ADMIN_USER,
                ADMIN_PASSWORD);
        assertTrue(write.body(), write.body().contains("\"status\":403"));
        HttpAnswer read = httpGet("/jolokia/read/kvmtool:type=Domain,name=g1/State", VIEWER_USER, VIEWER_PASSWORD);
        assertTrue("reads may come by GET: " + read.body(), read.body().contains("\"value\":\"shutoff\""));
        undefine("g1");
    }

    @Test
    public void noCredentialsNoEntry() throws Exception {
        assertEquals(401, httpGet("/jolokia/read/" + MANAGER + "/DomainNames", null, null).status());
        assertEquals(401, jolokiaExec(MANAGER, "defineDomain", null, null, json(xml("x"))).status());
        try (JMXConnector c = JMXConnectorFactory.connect(new JMXServiceURL(jmxServiceUrl()))) {
            fail("the RMI connector let in a client without credentials");
        } catch (SecurityException | IllegalArgumentException expected) {
            // Karaf's JAAS authenticator: "Expected String[2], got null"
        }
        try (JMXConnector c = connect(VIEWER_USER, "not-the-password")) {
            fail("the RMI connector let in a wrong password");
        } catch (SecurityException expected) {
            assertEquals("Authentication failed", expected.getMessage());
        }
    }

    // ------------------------------------------------------------------------------ the three doors

    @Test
    public void aViewerIsRefusedStartOnEveryDoorAndMayRead() throws Exception {
        define("v1");
        String vm = "kvmtool:type=Domain,name=v1";
        String start = "{\"type\":\"exec\",\"mbean\":\"" + vm + "\",\"operation\":\"start\"}";
        String read = "{\"type\":\"read\",\"mbean\":\"" + vm + "\",\"attribute\":\"State\"}";

        // /jolokia
        assertTrue(jolokiaPost(start, VIEWER_USER, VIEWER_PASSWORD).body().contains("\"status\":403"));
        assertValue(jolokiaPost(read, VIEWER_USER, VIEWER_PASSWORD), "\"value\":\"shutoff\"");
        assertTrue(jolokiaExec(vm, "consoleLog", VIEWER_USER, VIEWER_PASSWORD, "100").body()
                .contains("\"status\":403"));

        // /hawtio/jolokia (Hawtio's RBACRestrictor asks Karaf too)
        awaitHttp("/hawtio/auth/login", null, null, 200, Duration.ofMinutes(2));
        HttpAnswer hawtioStart = hawtioJolokia(start, VIEWER_USER, VIEWER_PASSWORD);
        assertTrue(hawtioStart.body(), hawtioStart.body().contains("\"status\":403"));
        assertValue(hawtioJolokia(read, VIEWER_USER, VIEWER_PASSWORD), "\"value\":\"shutoff\"");

        // Karaf's RMI connector (JConsole, VisualVM)
        try (JMXConnector c = connect(VIEWER_USER, VIEWER_PASSWORD)) {
            MBeanServerConnection remote = c.getMBeanServerConnection();
            assertEquals("shutoff", remote.getAttribute(domainName("v1"), "State"));
            try {
                remote.invoke(domainName("v1"), "start", null, null);
                fail("a viewer started v1 over RMI");
            } catch (SecurityException expected) {
                assertEquals("Insufficient roles/credentials for operation", expected.getMessage());
            }
        }
        assertEquals("nobody started it", "shutoff", platform().getAttribute(domainName("v1"), "State"));

        // and an admin may, on each door
        assertValue(jolokiaPost(start, ADMIN_USER, ADMIN_PASSWORD), "\"status\":200");
        assertValue(hawtioJolokia("{\"type\":\"exec\",\"mbean\":\"" + vm + "\",\"operation\":\"destroy\"}",
                ADMIN_USER, ADMIN_PASSWORD), "\"status\":200");
        try (JMXConnector c = connect(ADMIN_USER, ADMIN_PASSWORD)) {
            c.getMBeanServerConnection().invoke(domainName("v1"), "start", null, null);
            c.getMBeanServerConnection().invoke(domainName("v1"), "destroy", null, null);
        }
        undefine("v1");
    }

    /**
     * kvmtool's restrictor remembers Karaf's answers across requests: an edited, added or deleted jmx.acl
     * configuration must still apply to the very next /jolokia request, as it does on Karaf's RMI connector.
     */
    @Test
    public void anAclChangeAppliesToTheNextJolokiaRequest() throws Exception {
        define("a1");
        define("a2");
        String a1 = "kvmtool:type=Domain,name=a1";
        String a2 = "kvmtool:type=Domain,name=a2";
        assertValue(jolokiaRead(a1, "State", VIEWER_USER, VIEWER_PASSWORD), "\"value\":\"shutoff\"");
        assertValue(jolokiaRead(a2, "State", VIEWER_USER, VIEWER_PASSWORD), "\"value\":\"shutoff\"");

        ConfigurationAdmin configAdmin = awaitService(ConfigurationAdmin.class, null, WAIT);
        org.osgi.service.cm.Configuration locked = configAdmin.getConfiguration("jmx.acl.kvmtool.Domain.a1", null);
        try {
            java.util.Hashtable<String, Object> adminOnly = new java.util.Hashtable<>();
            adminOnly.put("*", "admin");
            locked.update(adminOnly);
            assertTrue("a new PID naming a1", jolokiaRead(a1, "State", VIEWER_USER, VIEWER_PASSWORD).body()
                    .contains("\"status\":403"));
            assertValue(jolokiaRead(a2, "State", VIEWER_USER, VIEWER_PASSWORD), "\"value\":\"shutoff\"");
            assertValue(jolokiaRead(a1, "State", ADMIN_USER, ADMIN_PASSWORD), "\"value\":\"shutoff\"");

            java.util.Hashtable<String, Object> viewerToo = new java.util.Hashtable<>();
            viewerToo.put("get*", "viewer, admin");
            viewerToo.put("*", "admin");
            locked.update(viewerToo);
            assertValue(jolokiaRead(a1, "State", VIEWER_USER, VIEWER_PASSWORD), "\"value\":\"shutoff\"");
            locked.update(adminOnly);
            assertTrue("the same PID edited again", jolokiaRead(a1, "State", VIEWER_USER, VIEWER_PASSWORD).body()
                    .contains("\"status\":403"));
        } finally {
            locked.delete();
        }
        assertValue(jolokiaRead(a1, "State", VIEWER_USER, VIEWER_PASSWORD), "\"value\":\"shutoff\"");
        undefine("a1");
        undefine("a2");
    }

    // ------------------------------------------------------------------------------ RMI, with notifications

    @Test
    public void theLifecycleOverRmiWithNotifications() throws Exception {
        try (JMXConnector c = connect(ADMIN_USER, ADMIN_PASSWORD)) {
            MBeanServerConnection remote = c.getMBeanServerConnection();
            List<Notification> manager = Collections.synchronizedList(new ArrayList<>());
            remote.addNotificationListener(name(MANAGER), (n, h) -> manager.add(n), null, null);

            assertEquals("r1", remote.invoke(name(MANAGER), "defineDomain", new Object[] {xml("r1")},
                    new String[] {String.class.getName()}));
            awaitTrue("r1 registered", () -> platform().isRegistered(domainName("r1")));
            List<Notification> domain = Collections.synchronizedList(new ArrayList<>());
            remote.addNotificationListener(domainName("r1"), (n, h) -> domain.add(n), null, null);

            remote.invoke(domainName("r1"), "start", null, null);
            assertTrue((Long) remote.getAttribute(domainName("r1"), "Pid") > 0);
            assertArrayEquals(new String[] {"r1"}, (String[]) remote.getAttribute(name(MANAGER), "ActiveDomainNames"));
            try {
                remote.invoke(domainName("r1"), "start", null, null);
                fail("started twice");
            } catch (RuntimeMBeanException e) {
                assertEquals("[OPERATION_INVALID] domain is already running", e.getTargetException().getMessage());
                assertNull(e.getTargetException().getCause());
            }
            remote.invoke(domainName("r1"), "destroy", null, null);

            awaitTrue("four notifications on r1", () -> domain.size() >= 4);
            assertEquals(List.of("jmx.attribute.change", "kvmtool.domain.lifecycle", "jmx.attribute.change",
                    "kvmtool.domain.lifecycle"), domain.stream().map(Notification::getType).toList());
            AttributeChangeNotification up = (AttributeChangeNotification) domain.get(0);
            assertEquals("shutoff", up.getOldValue());
            assertEquals("running", up.getNewValue());
            assertEquals("started booted", domain.get(1).getMessage());
            assertEquals("stopped destroyed", domain.get(3).getMessage());

            remote.invoke(name(MANAGER), "undefineDomain", new Object[] {"r1"}, new String[] {String.class.getName()});
            awaitTrue("the Manager told all", () -> manager.stream().map(Notification::getMessage).toList()
                    .containsAll(List.of("defined added", "started booted", "stopped destroyed", "undefined removed")));
            awaitTrue("r1 unregistered", () -> !platform().isRegistered(domainName("r1")));
        }
    }

    // ------------------------------------------------------------------------------ helpers

    static String xml(String name) {
        return xml(name, System.getProperty(TEST_GUEST));
    }

    static String xml(String name, String kernel) {
        return "<domain type='kvmtool'><name>" + name + "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                + "<os><type>hvm</type><kernel>" + kernel + "</kernel></os>"
                + "<devices><console type='pty'><target type='serial'/></console></devices></domain>";
    }

    private void define(String vm) throws Exception {
        platform().invoke(name(MANAGER), "defineDomain", new Object[] {xml(vm)}, new String[] {String.class.getName()});
        awaitTrue(vm + " registered", () -> platform().isRegistered(domainName(vm)));
    }

    private void undefine(String vm) throws Exception {
        platform().invoke(name(MANAGER), "undefineDomain", new Object[] {vm}, new String[] {String.class.getName()});
        awaitTrue(vm + " unregistered", () -> !platform().isRegistered(domainName(vm)));
    }

    /**
     * Hawtio's Jolokia serves Hawtio's pages: a request names them as its Origin, as the browser does (with
     * etc/hawtio-jolokia-access.xml in force, requests without a console Origin are refused).
     */
    private HttpAnswer hawtioJolokia(String json, String user, String password) throws Exception {
        return send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(baseUrl() + "/hawtio/jolokia"))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder()
                        .encodeToString((user + ":" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json").header("Origin", "http://127.0.0.1:8181")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private static HttpAnswer send(java.net.http.HttpRequest request) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(request,
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return new HttpAnswer(r.statusCode(), r.body());
    }

    private static JMXConnector connect(String user, String password) throws Exception {
        Map<String, Object> env = new HashMap<>();
        env.put(JMXConnector.CREDENTIALS, new String[] {user, password});
        return JMXConnectorFactory.connect(new JMXServiceURL(jmxServiceUrl()), env);
    }

    private static MBeanServer platform() {
        return ManagementFactory.getPlatformMBeanServer();
    }

    static ObjectName name(String s) {
        try {
            return new ObjectName(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(s, e);
        }
    }

    static ObjectName domainName(String vm) {
        return name("kvmtool:type=Domain,name=" + vm);
    }

    static String json(String s) {
        return "\"" + jsonEscape(s) + "\"";
    }

    private static void assertValue(HttpAnswer answer, String expected) {
        assertEquals(answer.body(), 200, answer.status());
        assertTrue(answer.body(), answer.body().contains(expected));
    }

    interface Body {
        HttpAnswer get() throws Exception;
    }

    private static String body(Body call) {
        try {
            return call.get().body();
        } catch (Exception e) {
            return "";
        }
    }

    private static void assertAttributes(MBeanInfo info, Map<String, OpenType<?>> expected, Set<String> writable) {
        Map<String, MBeanAttributeInfo> byName = Arrays.stream(info.getAttributes())
                .collect(Collectors.toMap(MBeanAttributeInfo::getName, a -> a));
        for (Map.Entry<String, OpenType<?>> e : expected.entrySet()) {
            MBeanAttributeInfo a = byName.get(e.getKey());
            assertTrue("attribute " + e.getKey(), a != null);
            assertEquals(e.getKey(), e.getValue(), a.getDescriptor().getFieldValue("openType"));
            assertEquals(e.getKey() + " writable", writable.contains(e.getKey()), a.isWritable());
        }
    }

    static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + WAIT + ": " + what);
            }
            Thread.sleep(50);
        }
    }
}
