package org.kvmtool.manager.jmx;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import javax.management.Attribute;
import javax.management.AttributeChangeNotification;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanNotificationInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.Notification;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.openmbean.ArrayType;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.OpenDataException;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.InterfaceStats;
import org.kvmtool.manager.api.testing.FakeDomainDriver;

/** The JMX contract (design.md) against a fake driver, in a plain MBeanServer. */
class DomainMBeansTest {
    private static final String XML = "<domain type='kvmtool'><name>%s</name></domain>";
    private static final ObjectName MANAGER = ObjectNames.MANAGER;

    private final FakeDomainDriver driver = new FakeDomainDriver();
    private final MBeanServer server = MBeanServerFactory.newMBeanServer();
    private final MutableClock clock = new MutableClock(FakeDomainDriver.NOW + 42_500);
    private DomainMBeans mbeans;

    @BeforeEach
    void open() {
        mbeans = new DomainMBeans(driver, server, clock, 1000, 200);
        mbeans.open();
    }

    @AfterEach
    void close() throws Exception {
        mbeans.close();
        assertEquals(Set.of(), server.queryNames(new ObjectName("kvmtool:*"), null), "close unregisters everything");
        assertTrue(driver.listeners.isEmpty(), "close stops listening");
    }

    // ---- the contract's shape -------------------------------------------------------------------------

    @Test
    void managerHasTheContractsAttributesAndOperationsWithOpenTypes() throws Exception {
        MBeanInfo info = server.getMBeanInfo(MANAGER);
        Map<String, OpenType<?>> expected = new TreeMap<>(Map.of(
                "Uri", SimpleType.STRING, "Version", SimpleType.STRING, "HypervisorBinary", SimpleType.STRING,
                "HypervisorVersion", SimpleType.STRING, "HypervisorAvailable", SimpleType.BOOLEAN,
                "DomainNames", ArrayType.getArrayType(SimpleType.STRING),
                "ActiveDomainNames", ArrayType.getArrayType(SimpleType.STRING),
                "RecentEvents", ArrayType.getArrayType(Notifications.EVENT_TYPE)));
        assertAttributes(info, expected, Set.of());
        assertOperation(info, "defineDomain", SimpleType.STRING, "xml", SimpleType.STRING);
        assertOperation(info, "createDomain", SimpleType.STRING, "xml", SimpleType.STRING);
        assertOperation(info, "undefineDomain", SimpleType.VOID, "name", SimpleType.STRING);
        assertNotifications(info, Set.of(Notifications.LIFECYCLE));
    }

    @Test
    void domainHasTheContractsAttributesAndOperationsWithOpenTypes() throws Exception {
        ObjectName vm = define("vm1");
        MBeanInfo info = server.getMBeanInfo(vm);
        Map<String, OpenType<?>> expected = new TreeMap<>();
        for (String s : List.of("Name", "Uuid", "State", "StateReason", "ConsolePath")) {
            expected.put(s, SimpleType.STRING);
        }
        for (String b : List.of("Persistent", "Autostart")) {
            expected.put(b, SimpleType.BOOLEAN);
        }
        for (String l : List.of("Pid", "MaxMemoryBytes", "CurrentMemoryBytes", "MemoryUsageBytes",
                "MemoryLimitBytes", "CpuTimeNanos", "CpuShares", "UptimeSeconds")) {
            expected.put(l, SimpleType.LONG);
        }
        expected.put("Vcpus", SimpleType.INTEGER);
        expected.put("VcpuThreadIds", ArrayType.getPrimitiveArrayType(long[].class));
        expected.put("InterfaceStats", ArrayType.getArrayType(interfaceCountersType()));
        expected.put("AllowedOperations", ArrayType.getArrayType(SimpleType.STRING));
        assertAttributes(info, expected, Set.of("Autostart", "CpuShares", "MemoryLimitBytes"));
        assertEquals(expected.keySet(), attributeNames(info), "no attribute beyond the contract (no 'Memory')");
        for (String op : List.of("start", "shutdown", "destroy", "reboot", "suspend", "resume", "undefine")) {
            assertOperation(info, op, SimpleType.VOID);
        }
        assertOperation(info, "setMemory", SimpleType.VOID, "bytes", SimpleType.LONG);
        assertOperation(info, "dumpXml", SimpleType.STRING);
        assertOperation(info, "consoleLog", SimpleType.STRING, "maxBytes", SimpleType.INTEGER);
        assertOperation(info, "sendConsole", SimpleType.VOID, "text", SimpleType.STRING);
        assertNotifications(info, Set.of(AttributeChangeNotification.ATTRIBUTE_CHANGE, Notifications.LIFECYCLE));
        assertEquals("true", info.getDescriptor().getFieldValue("mxbean"), "an MXBean: open types only");
    }

    // ---- values ---------------------------------------------------------------------------------------

    @Test
    void managerAttributesComeFromTheDriver() throws Exception {
        define("b");
        define("a");
        invoke(ObjectNames.domain("b"), "start");
        assertEquals("kvmtool:///session", server.getAttribute(MANAGER, "Uri"));
        assertEquals("0.1.0-test", server.getAttribute(MANAGER, "Version"));
        assertEquals("/usr/bin/lkvm", server.getAttribute(MANAGER, "HypervisorBinary"));
        assertEquals("3.18.0", server.getAttribute(MANAGER, "HypervisorVersion"));
        assertEquals(true, server.getAttribute(MANAGER, "HypervisorAvailable"));
        assertArrayEquals(new String[] {"a", "b"}, (String[]) server.getAttribute(MANAGER, "DomainNames"));
        assertArrayEquals(new String[] {"b"}, (String[]) server.getAttribute(MANAGER, "ActiveDomainNames"));
        assertNull(server.getAttribute(MANAGER, "HypervisorReason"));
        assertEquals("unified", server.getAttribute(MANAGER, "CgroupLayout"));
    }

    @Test
    void domainAttributesWhenInactiveAndRunning() throws Exception {
        ObjectName vm = define("vm1");
        assertAll(
                () -> assertEquals("vm1", server.getAttribute(vm, "Name")),
                () -> assertEquals(driver.lookup("vm1").orElseThrow().uuid().toString(),
                        server.getAttribute(vm, "Uuid")),
                () -> assertEquals("shutoff", server.getAttribute(vm, "State")),
                () -> assertEquals("unknown", server.getAttribute(vm, "StateReason")),
                () -> assertEquals(true, server.getAttribute(vm, "Persistent")),
                () -> assertEquals(-1L, server.getAttribute(vm, "Pid")),
                () -> assertEquals(0L, server.getAttribute(vm, "UptimeSeconds")),
                () -> assertNull(server.getAttribute(vm, "ConsolePath")),
                () -> assertArrayEquals(new long[0], (long[]) server.getAttribute(vm, "VcpuThreadIds")),
                () -> assertEquals(0L, server.getAttribute(vm, "CpuTimeNanos")));

        invoke(vm, "start");
        long pid = (Long) server.getAttribute(vm, "Pid");
        assertAll(
                () -> assertEquals("running", server.getAttribute(vm, "State")),
                () -> assertEquals("booted", server.getAttribute(vm, "StateReason")),
                () -> assertTrue(pid > 0),
                () -> assertEquals(2, server.getAttribute(vm, "Vcpus")),
                () -> assertEquals(512L << 20, server.getAttribute(vm, "MaxMemoryBytes")),
                () -> assertEquals(256L << 20, server.getAttribute(vm, "CurrentMemoryBytes")),
                () -> assertEquals(64L << 20, server.getAttribute(vm, "MemoryUsageBytes")),
                () -> assertEquals(-1L, server.getAttribute(vm, "MemoryLimitBytes")),
                () -> assertEquals(42L, server.getAttribute(vm, "UptimeSeconds")),
                () -> assertEquals("/dev/pts/" + (pid % 100), server.getAttribute(vm, "ConsolePath")),
                () -> assertArrayEquals(new long[] {pid + 1, pid + 2},
                        (long[]) server.getAttribute(vm, "VcpuThreadIds")));
    }

    /** Each interface's counters as one CompositeData: what JConsole shows as a table, Jolokia as objects. */
    static CompositeType interfaceCountersType() throws OpenDataException {
        String[] names = {"device", "mac", "rxBytes", "rxDrop", "rxErrs", "rxPackets", "txBytes", "txDrop", "txErrs", "txPackets"};
        OpenType<?>[] types = new OpenType<?>[names.length];
        java.util.Arrays.fill(types, SimpleType.LONG);
        types[0] = SimpleType.STRING;
        types[1] = SimpleType.STRING;
        return new CompositeType(InterfaceCounters.class.getName(), InterfaceCounters.class.getName(), names, names, types);
    }

    @Test
    void interfaceStatsAreOneCompositePerTapAndNoneWhenInactive() throws Exception {
        ObjectName vm = define("vm1");
        assertEquals(0, ((CompositeData[]) server.getAttribute(vm, "InterfaceStats")).length, "shut off: none, no error");
        invoke(vm, "start");
        driver.interfaceStats.put("vm1", List.of(new InterfaceStats("kvmtap0", "52:54:00:00:00:01", 1, 2, 3, 4, 5, 6, 7, 8),
                new InterfaceStats("tap-ops", null, 10, 20, 0, 0, 30, 40, 0, 0)));
        CompositeData[] stats = (CompositeData[]) server.getAttribute(vm, "InterfaceStats");
        assertEquals(2, stats.length);
        assertEquals("kvmtap0", stats[0].get("device"));
        assertEquals("52:54:00:00:00:01", stats[0].get("mac"));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L), List.of(stats[0].get("rxBytes"), stats[0].get("rxPackets"),
                stats[0].get("rxErrs"), stats[0].get("rxDrop"), stats[0].get("txBytes"), stats[0].get("txPackets"),
                stats[0].get("txErrs"), stats[0].get("txDrop")));
        assertEquals("tap-ops", stats[1].get("device"));
        assertNull(stats[1].get("mac"));
        assertEquals(40L, stats[1].get("txPackets"));
    }

    /** The contract's names, in its order, as the state and persistence change; each one listed is admitted. */
    @Test
    void allowedOperationsFollowTheStateAndPersistence() throws Exception {
        ObjectName vm = define("vm1");
        assertArrayEquals(new String[] {"start", "undefine", "setMemory", "setAutostart"},
                (String[]) server.getAttribute(vm, "AllowedOperations"));
        invoke(vm, "start");
        assertArrayEquals(new String[] {"shutdown", "destroy", "reboot", "suspend", "undefine", "setMemory",
                "setAutostart", "sendConsole", "memoryStats"}, (String[]) server.getAttribute(vm, "AllowedOperations"));
        invoke(vm, "suspend");
        String[] paused = (String[]) server.getAttribute(vm, "AllowedOperations");
        assertArrayEquals(new String[] {"destroy", "resume", "undefine", "setMemory", "setAutostart", "sendConsole"},
                paused);
        // what is not listed is refused, with the message the list stands for
        assertEquals("[OPERATION_INVALID] domain is paused",
                clientException(() -> server.invoke(vm, "shutdown", null, null)).getMessage());
        assertEquals("[OPERATION_INVALID] domain is already paused",
                clientException(() -> server.invoke(vm, "suspend", null, null)).getMessage());
        invoke(vm, "resume");
        invoke(vm, "undefine"); // running on as a transient domain
        assertArrayEquals(new String[] {"shutdown", "destroy", "reboot", "suspend", "setMemory", "sendConsole",
                "memoryStats"}, (String[]) server.getAttribute(vm, "AllowedOperations"));
    }

    @Test
    void oneCgroupReadingServesTheAttributesOfOneBulkReadOnly() throws Exception {
        ObjectName vm = define("vm1");
        invoke(vm, "start");
        long t1 = (Long) server.getAttribute(vm, "CpuTimeNanos");
        assertEquals(t1, server.getAttribute(vm, "CpuTimeNanos"), "the same reading within 200 ms");
        clock.advance(199);
        assertEquals(t1, server.getAttribute(vm, "CpuTimeNanos"));
        clock.advance(1);
        long t2 = (Long) server.getAttribute(vm, "CpuTimeNanos");
        assertTrue(t2 > t1 && t1 > 0, "a new reading after 200 ms");
        server.setAttribute(vm, new Attribute("CpuShares", 300L));
        assertEquals(300L, server.getAttribute(vm, "CpuShares"), "a write through the MBean drops the reading");
        long t3 = (Long) server.getAttribute(vm, "CpuTimeNanos");
        assertTrue(t3 > t2);
        driver.crash("vm1");
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        assertEquals(0L, server.getAttribute(vm, "CpuTimeNanos"), "an event drops the reading");
    }

    @Test
    void writableAttributesReachTheDriver() throws Exception {
        ObjectName vm = define("vm1");
        server.setAttribute(vm, new Attribute("Autostart", true));
        server.setAttribute(vm, new Attribute("CpuShares", 512L));
        server.setAttribute(vm, new Attribute("MemoryLimitBytes", 300L << 20));
        assertEquals(true, server.getAttribute(vm, "Autostart"));
        assertEquals(true, driver.lookup("vm1").orElseThrow().autostart());
        assertEquals(512L, server.getAttribute(vm, "CpuShares"));
        assertEquals(300L << 20, server.getAttribute(vm, "MemoryLimitBytes"));
        server.setAttribute(vm, new Attribute("MemoryLimitBytes", -1L));
        assertEquals(-1L, server.getAttribute(vm, "MemoryLimitBytes"));
    }

    @Test
    void operationsDriveTheLifecycle() throws Exception {
        ObjectName vm = define("vm1");
        invoke(vm, "start");
        invoke(vm, "suspend");
        assertEquals("paused", server.getAttribute(vm, "State"));
        assertEquals("user", server.getAttribute(vm, "StateReason"));
        invoke(vm, "resume");
        assertEquals("unpaused", server.getAttribute(vm, "StateReason"));
        server.invoke(vm, "setMemory", new Object[] {128L << 20}, new String[] {"long"});
        assertEquals(128L << 20, server.getAttribute(vm, "CurrentMemoryBytes"));
        server.invoke(vm, "sendConsole", new Object[] {"root\n"}, new String[] {String.class.getName()});
        assertEquals("root\n", driver.consoleInput.toString());
        assertEquals("ready\n", server.invoke(vm, "consoleLog", new Object[] {6}, new String[] {"int"}));
        assertEquals(String.format(XML, "vm1"), invoke(vm, "dumpXml"));
        invoke(vm, "reboot");
        assertEquals("running", server.getAttribute(vm, "State"));
        invoke(vm, "shutdown");
        assertEquals("shutoff", server.getAttribute(vm, "State"));
        assertEquals("shutdown", server.getAttribute(vm, "StateReason"));
        invoke(vm, "start");
        invoke(vm, "destroy");
        assertEquals("destroyed", server.getAttribute(vm, "StateReason"));
        invoke(vm, "undefine");
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        assertFalse(server.isRegistered(vm));
    }

    // ---- errors ---------------------------------------------------------------------------------------

    @Test
    void anInvalidOperationSaysTheStateWithAJdkExceptionAndNoTrace() throws Exception {
        ObjectName vm = define("vm1");
        RuntimeException client = clientException(() -> server.invoke(vm, "shutdown", null, null));
        assertInstanceOf(IllegalStateException.class, client);
        assertEquals("[OPERATION_INVALID] domain is not running", client.getMessage());
        assertCarriesNothingOfOurs(client);
    }

    @Test
    void errorsOfEveryKindAreMappedOnce() throws Exception {
        ObjectName vm = define("vm1");
        RuntimeException noDomain = clientException(
                () -> server.invoke(MANAGER, "undefineDomain", new Object[] {"nope"}, new String[] {"java.lang.String"}));
        assertInstanceOf(IllegalArgumentException.class, noDomain);
        assertEquals("[NO_DOMAIN] domain 'nope' not found", noDomain.getMessage());

        RuntimeException xml = clientException(() -> server.invoke(MANAGER, "defineDomain",
                new Object[] {"<domain/>"}, new String[] {"java.lang.String"}));
        assertEquals("[XML_ERROR] missing <name> in domain XML", xml.getMessage());
        assertInstanceOf(IllegalArgumentException.class, xml);

        RuntimeException badWrite = clientException(() -> server.setAttribute(vm, new Attribute("CpuShares", 1L)));
        assertEquals("[INVALID_ARG] cpu shares must be at least 2", badWrite.getMessage());

        RuntimeException badMemory = clientException(
                () -> server.invoke(vm, "setMemory", new Object[] {-5L}, new String[] {"long"}));
        assertInstanceOf(IllegalArgumentException.class, badMemory);

        RuntimeException transientAutostart = clientException(() -> {
            server.invoke(MANAGER, "createDomain", new Object[] {String.format(XML, "t1")},
                    new String[] {"java.lang.String"});
            mbeans.awaitIdle(5, TimeUnit.SECONDS);
            server.setAttribute(ObjectNames.domain("t1"), new Attribute("Autostart", true));
        });
        assertEquals("[OPERATION_INVALID] cannot set autostart for transient domain 't1'", transientAutostart.getMessage());
        for (RuntimeException e : List.of(noDomain, xml, badWrite, badMemory, transientAutostart)) {
            assertCarriesNothingOfOurs(e);
        }
    }

    @Test
    void anUnexpectedFailureBecomesAnInternalErrorWithTheCauseOnlyInTheLog() {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(JmxEdge.class.getName());
        List<java.util.logging.LogRecord> records = new ArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(capture);
        log.setUseParentHandlers(false);
        NullPointerException bug = new NullPointerException("bug");
        try {
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> JmxEdge.call("kvmtool:type=Domain,name=x", "start", () -> {
                        throw bug;
                    }));
            assertEquals("[INTERNAL_ERROR] start failed: internal error (see the manager's log)", e.getMessage());
            assertCarriesNothingOfOurs(e);
            assertEquals(1, records.size());
            assertEquals(java.util.logging.Level.SEVERE, records.get(0).getLevel());
            assertEquals(bug, records.get(0).getThrown(), "the cause, with its stack trace, is in the log");
        } finally {
            log.removeHandler(capture);
            log.setUseParentHandlers(true);
        }
    }

    @Test
    void theErrorTable() {
        assertAll(
                () -> assertInstanceOf(IllegalArgumentException.class, JmxEdge.toClient(
                        org.kvmtool.manager.api.ErrorCode.CONFIG_UNSUPPORTED, "disk bus 'ide' is not supported")),
                () -> assertInstanceOf(UnsupportedOperationException.class,
                        JmxEdge.toClient(org.kvmtool.manager.api.ErrorCode.NO_SUPPORT, "x")),
                () -> assertInstanceOf(SecurityException.class,
                        JmxEdge.toClient(org.kvmtool.manager.api.ErrorCode.ACCESS_DENIED, "x")),
                () -> assertInstanceOf(IllegalStateException.class,
                        JmxEdge.toClient(org.kvmtool.manager.api.ErrorCode.OPERATION_TIMEOUT, "x")),
                () -> assertEquals("[SYSTEM_ERROR] spawn failed: EPERM",
                        JmxEdge.toClient(org.kvmtool.manager.api.ErrorCode.SYSTEM_ERROR, "spawn failed:\n  EPERM\n")
                                .getMessage()),
                () -> assertEquals("[INTERNAL_ERROR] failed",
                        JmxEdge.toClient(org.kvmtool.manager.api.ErrorCode.INTERNAL_ERROR, null).getMessage()));
    }

    // ---- registration follows the driver -----------------------------------------------------------

    @Test
    void domainsPresentBeforeOpeningAreRegistered() throws Exception {
        mbeans.close();
        driver.populate(20, 5);
        mbeans = new DomainMBeans(driver, server, clock, 1000, 200);
        mbeans.open();
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        assertEquals(20, server.queryNames(ObjectNames.ALL_DOMAINS, null).size());
        assertEquals("running", server.getAttribute(ObjectNames.domain("vm0004"), "State"));
    }

    @Test
    void registeredWhileTheDomainExistsTransientOnesUntilTheyStop() throws Exception {
        ObjectName persistent = define("p1");
        assertTrue(server.isRegistered(persistent));

        server.invoke(MANAGER, "createDomain", new Object[] {String.format(XML, "t1")},
                new String[] {"java.lang.String"});
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        ObjectName transientOne = ObjectNames.domain("t1");
        assertTrue(server.isRegistered(transientOne));
        assertEquals(false, server.getAttribute(transientOne, "Persistent"));
        invoke(transientOne, "destroy");
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        assertFalse(server.isRegistered(transientOne), "a transient domain goes when it stops");

        invoke(persistent, "start");
        invoke(persistent, "undefine");
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        assertTrue(server.isRegistered(persistent), "undefined while running: it runs on, transient");
        assertEquals(false, server.getAttribute(persistent, "Persistent"));
        invoke(persistent, "destroy");
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        assertFalse(server.isRegistered(persistent));
    }

    @Test
    void aLookupThatFailsIsAskedAgainAndTheEventDecidesWhatItCan() throws Exception {
        ObjectName persistent = define("p1");
        driver.failingLookups.set(100);
        invoke(MANAGER, "undefineDomain", "p1");
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        assertFalse(server.isRegistered(persistent), "undefined and inactive: gone, whatever lookup says");
        driver.failingLookups.set(0);

        server.invoke(MANAGER, "createDomain", new Object[] {String.format(XML, "t1")},
                new String[] {"java.lang.String"});
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        ObjectName transientOne = ObjectNames.domain("t1");
        assertTrue(server.isRegistered(transientOne));
        driver.failingLookups.set(3);
        invoke(transientOne, "destroy");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.isRegistered(transientOne) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(server.isRegistered(transientOne), "asked again until the driver could answer");
    }

    // ---- notifications ------------------------------------------------------------------------------

    @Test
    void eachEventGivesAStateChangeThenALifecycleNotification() throws Exception {
        ObjectName vm = define("vm1");
        List<Notification> got = listen(vm);
        invoke(vm, "start");
        driver.crash("vm1");
        mbeans.awaitIdle(5, TimeUnit.SECONDS);

        assertEquals(List.of("jmx.attribute.change", "kvmtool.domain.lifecycle", "jmx.attribute.change",
                "kvmtool.domain.lifecycle"), got.stream().map(Notification::getType).toList());
        AttributeChangeNotification up = (AttributeChangeNotification) got.get(0);
        assertEquals("State", up.getAttributeName());
        assertEquals("shutoff", up.getOldValue());
        assertEquals("running", up.getNewValue());
        assertEquals("started booted", got.get(1).getMessage());
        assertEquals("stopped crashed", got.get(3).getMessage());
        CompositeData data = (CompositeData) got.get(3).getUserData();
        assertEquals("vm1", data.get("name"));
        assertEquals(driver.lookup("vm1").orElseThrow().uuid().toString(), data.get("uuid"));
        assertEquals("stopped", data.get("event"));
        assertEquals("crashed", data.get("detail"));
        assertEquals("shutoff", data.get("state"));
        assertEquals("crashed", data.get("reason"));
        assertEquals(vm, got.get(3).getSource());
        assertContiguous(got);
    }

    @Test
    void aBurstOfEventsArrivesCompleteAndInOrder() throws Exception {
        ObjectName vm = define("vm1");
        invoke(vm, "start");
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        List<Notification> onDomain = listen(vm);
        List<Notification> onManager = listen(MANAGER);
        int pairs = 5_000;
        driver.burst("vm1", pairs);
        mbeans.awaitIdle(30, TimeUnit.SECONDS);

        List<Notification> lifecycle = onDomain.stream()
                .filter(n -> n.getType().equals(Notifications.LIFECYCLE)).toList();
        List<Notification> changes = onDomain.stream()
                .filter(n -> n instanceof AttributeChangeNotification).toList();
        assertEquals(2 * pairs, lifecycle.size());
        assertEquals(2 * pairs, changes.size(), "every suspend and resume changes State");
        assertContiguous(onDomain);
        for (int i = 0; i < lifecycle.size(); i++) {
            assertEquals(i % 2 == 0 ? "suspended paused" : "resumed unpaused", lifecycle.get(i).getMessage());
        }
        assertEquals(2 * pairs, onManager.size());
        assertContiguous(onManager);
        List<Long> driverSequence = onManager.stream()
                .map(n -> (Long) ((CompositeData) n.getUserData()).get("sequence")).toList();
        List<Long> sorted = new ArrayList<>(driverSequence);
        sorted.sort(null);
        assertEquals(sorted, driverSequence, "in the driver's order");

        CompositeData[] recent = (CompositeData[]) server.getAttribute(MANAGER, "RecentEvents");
        assertEquals(1000, recent.length, "RecentEvents keeps the last 1000");
        assertEquals(driverSequence.get(driverSequence.size() - 1), recent[recent.length - 1].get("sequence"));
        assertEquals((Long) recent[0].get("sequence") + 999, recent[999].get("sequence"));
    }

    @Test
    void theManagerAnnouncesDomainsThatComeAndGo() throws Exception {
        List<Notification> got = listen(MANAGER);
        define("vm1");
        invoke(MANAGER, "undefineDomain", "vm1");
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        assertEquals(List.of("defined added", "undefined removed"),
                got.stream().map(Notification::getMessage).toList());
        assertEquals(Set.of(MANAGER), got.stream().map(Notification::getSource).collect(Collectors.toSet()));
    }

    @Test
    void aListenerAddedOnceDefineDomainReturnedDoesNotGetTheDefinedEvent() throws Exception {
        // the real driver delivers its events on a thread of its own, which may lag behind defineDomain's return
        java.util.concurrent.ExecutorService lagging = java.util.concurrent.Executors.newSingleThreadExecutor();
        Map<Object, org.kvmtool.manager.api.DomainEventListener> wrappers = new java.util.concurrent.ConcurrentHashMap<>();
        org.kvmtool.manager.api.DomainDriver slow = (org.kvmtool.manager.api.DomainDriver) java.lang.reflect.Proxy
                .newProxyInstance(getClass().getClassLoader(), new Class<?>[] {org.kvmtool.manager.api.DomainDriver.class},
                        (proxy, method, args) -> {
                            if (method.getName().equals("addListener")) {
                                org.kvmtool.manager.api.DomainEventListener l =
                                        (org.kvmtool.manager.api.DomainEventListener) args[0];
                                org.kvmtool.manager.api.DomainEventListener later = e -> lagging.execute(() -> {
                                    sleep(150);
                                    l.onEvent(e);
                                });
                                wrappers.put(l, later);
                                args = new Object[] {later};
                            } else if (method.getName().equals("removeListener")) {
                                args = new Object[] {wrappers.getOrDefault(args[0], (
                                        org.kvmtool.manager.api.DomainEventListener) args[0])};
                            }
                            try {
                                return method.invoke(driver, args);
                            } catch (java.lang.reflect.InvocationTargetException e) {
                                throw e.getCause();
                            }
                        });
        MBeanServer other = MBeanServerFactory.newMBeanServer();
        DomainMBeans published = new DomainMBeans(slow, other, clock, 1000, 200);
        published.open();
        try {
            assertEquals("late", other.invoke(MANAGER, "defineDomain", new Object[] {String.format(XML, "late")},
                    new String[] {"java.lang.String"}));
            ObjectName late = ObjectNames.domain("late");
            assertTrue(other.isRegistered(late), "registered before defineDomain returned");
            List<Notification> got = java.util.Collections.synchronizedList(new ArrayList<>());
            other.addNotificationListener(late, (n, handback) -> got.add(n), null, null);
            driver.start("late");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (got.size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(List.of("State shutoff -> running", "started booted"),
                    got.stream().map(Notification::getMessage).toList());
        } finally {
            published.close();
            lagging.shutdownNow();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private ObjectName define(String name) throws Exception {
        Object returned = server.invoke(MANAGER, "defineDomain", new Object[] {String.format(XML, name)},
                new String[] {"java.lang.String"});
        assertEquals(name, returned);
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        ObjectName on = ObjectNames.domain(name);
        assertTrue(server.isRegistered(on), on + " registered");
        return on;
    }

    private Object invoke(ObjectName name, String op, String... args) throws JMException {
        String[] sig = new String[args.length];
        Arrays.fill(sig, String.class.getName());
        return server.invoke(name, op, args, sig);
    }

    private List<Notification> listen(ObjectName name) throws Exception {
        List<Notification> got = java.util.Collections.synchronizedList(new ArrayList<>());
        server.addNotificationListener(name, (n, handback) -> got.add(n), null, null);
        return got;
    }

    interface Call {
        void run() throws Exception;
    }

    /** What a client gets: the target of the RuntimeMBeanException the MBean server throws. */
    private static RuntimeException clientException(Call call) {
        RuntimeMBeanException e = assertThrows(RuntimeMBeanException.class, call::run);
        return e.getTargetException();
    }

    private static void assertCarriesNothingOfOurs(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertNull(t.getClass().getClassLoader(), t.getClass() + " is a JDK class every client has");
            for (StackTraceElement frame : t.getStackTrace()) {
                assertFalse(frame.getClassName().startsWith("org.kvmtool"), "no frame of ours: " + frame);
            }
        }
        assertNull(e.getCause(), "no cause crosses the edge");
    }

    /** Numbered one by one by their emitter: none missing, none twice, in order. */
    private static void assertContiguous(List<Notification> notifications) {
        for (int i = 1; i < notifications.size(); i++) {
            assertEquals(notifications.get(i - 1).getSequenceNumber() + 1, notifications.get(i).getSequenceNumber(),
                    "sequence number after " + notifications.get(i - 1).getSequenceNumber());
        }
    }

    private static Set<String> attributeNames(MBeanInfo info) {
        return Arrays.stream(info.getAttributes()).map(MBeanAttributeInfo::getName).collect(Collectors.toSet());
    }

    private static void assertAttributes(MBeanInfo info, Map<String, OpenType<?>> expected, Set<String> writable) {
        Map<String, MBeanAttributeInfo> byName = Arrays.stream(info.getAttributes())
                .collect(Collectors.toMap(MBeanAttributeInfo::getName, a -> a));
        for (Map.Entry<String, OpenType<?>> e : expected.entrySet()) {
            MBeanAttributeInfo a = byName.get(e.getKey());
            assertNotNull(a, "attribute " + e.getKey());
            assertEquals(e.getValue(), a.getDescriptor().getFieldValue("openType"), e.getKey() + " open type");
            assertTrue(a.isReadable(), e.getKey() + " readable");
            assertEquals(writable.contains(e.getKey()), a.isWritable(), e.getKey() + " writable");
            assertFalse(a.getDescription().isBlank(), e.getKey() + " described");
        }
    }

    private static void assertOperation(MBeanInfo info, String name, OpenType<?> returns, Object... params) {
        MBeanOperationInfo op = Arrays.stream(info.getOperations()).filter(o -> o.getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("operation " + name));
        assertEquals(returns, op.getDescriptor().getFieldValue("openType"), name + " returns");
        assertEquals(params.length / 2, op.getSignature().length, name + " parameters");
        for (int i = 0; i < params.length; i += 2) {
            assertEquals(params[i], op.getSignature()[i / 2].getName(), name + " parameter name");
            assertEquals(params[i + 1], op.getSignature()[i / 2].getDescriptor().getFieldValue("openType"),
                    name + " parameter type");
        }
        assertFalse(op.getDescription().isBlank(), name + " described");
    }

    private static void assertNotifications(MBeanInfo info, Set<String> types) {
        Set<String> declared = Arrays.stream(info.getNotifications()).map(MBeanNotificationInfo::getNotifTypes)
                .flatMap(Arrays::stream).collect(Collectors.toSet());
        assertEquals(types, declared);
    }
}
