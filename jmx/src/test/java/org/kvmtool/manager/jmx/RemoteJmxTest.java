package org.kvmtool.manager.jmx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.net.URLClassLoader;
import java.rmi.server.RMIServerSocketFactory;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import javax.management.Attribute;
import javax.management.AttributeChangeNotification;
import javax.management.AttributeList;
import javax.management.MBeanServer;
import javax.management.MBeanServerConnection;
import javax.management.MBeanServerFactory;
import javax.management.Notification;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.openmbean.CompositeData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXPrincipal;
import javax.management.remote.JMXServiceURL;
import javax.management.remote.rmi.RMIConnectorServer;
import javax.security.auth.Subject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.testing.FakeDomainDriver;

/**
 * A remote JMX client, as JConsole or VisualVM over Karaf's RMI connector: a JMXConnectorServer over RMI on the
 * loopback interface (stubs name 127.0.0.1: java.rmi.server.hostname, set by the pom), with a password check.
 * The client deserializes with a class loader that sees only the JDK, so anything of ours crossing the wire
 * would fail.
 */
class RemoteJmxTest {
    private static final String XML = "<domain type='kvmtool'><name>%s</name></domain>";

    private final FakeDomainDriver driver = new FakeDomainDriver();
    private final MBeanServer server = MBeanServerFactory.newMBeanServer();
    private DomainMBeans mbeans;
    private JMXConnectorServer connectorServer;
    private JMXConnector connector;
    private MBeanServerConnection remote;

    /** Binds to 127.0.0.1 only. */
    static final class LoopbackServerSockets implements RMIServerSocketFactory {
        @Override
        public ServerSocket createServerSocket(int port) throws IOException {
            return new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        }
    }

    @BeforeEach
    void start() throws Exception {
        mbeans = new DomainMBeans(driver, server, Clock.systemUTC(), 1000, 200);
        mbeans.open();
        Map<String, Object> env = new HashMap<>();
        env.put(RMIConnectorServer.RMI_SERVER_SOCKET_FACTORY_ATTRIBUTE, new LoopbackServerSockets());
        env.put(JMXConnectorServer.AUTHENTICATOR, (javax.management.remote.JMXAuthenticator) credentials -> {
            String[] userPassword = (String[]) credentials;
            if (!"admin".equals(userPassword[0]) || !"secret".equals(userPassword[1])) {
                throw new SecurityException("Authentication failed");
            }
            return new Subject(true, Set.of(new JMXPrincipal("admin")), Set.of(), Set.of());
        });
        // Karaf's default is 1000 for all MBeans together; etc/system.properties may raise it (see the report)
        env.put("jmx.remote.x.notification.buffer.size", 20_000);
        connectorServer = JMXConnectorServerFactory.newJMXConnectorServer(
                new JMXServiceURL("service:jmx:rmi://127.0.0.1:0"), env, server);
        connectorServer.start();
        connector = connect("admin", "secret");
        remote = connector.getMBeanServerConnection();
    }

    private JMXConnector connect(String user, String password) throws IOException {
        Map<String, Object> env = new HashMap<>();
        env.put(JMXConnector.CREDENTIALS, new String[] {user, password});
        env.put(JMXConnectorFactory.DEFAULT_CLASS_LOADER,
                new URLClassLoader(new URL[0], ClassLoader.getPlatformClassLoader()));
        return JMXConnectorFactory.connect(connectorServer.getAddress(), env);
    }

    @AfterEach
    void stop() throws Exception {
        connector.close();
        connectorServer.stop();
        mbeans.close();
    }

    @Test
    void aRemoteClientSeesTheMBeansAndDrivesTheLifecycle() throws Exception {
        remote.invoke(ObjectNames.MANAGER, "defineDomain", new Object[] {String.format(XML, "vm1")},
                new String[] {String.class.getName()});
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        ObjectName vm = ObjectNames.domain("vm1");
        assertEquals(Set.of(ObjectNames.MANAGER, vm), remote.queryNames(new ObjectName("kvmtool:*"), null));
        assertArrayEquals(new String[] {"vm1"}, (String[]) remote.getAttribute(ObjectNames.MANAGER, "DomainNames"));

        remote.invoke(vm, "start", null, null);
        AttributeList bulk = remote.getAttributes(vm, new String[] {"State", "CpuTimeNanos", "MemoryUsageBytes"});
        assertEquals(3, bulk.size());
        assertEquals("running", ((Attribute) bulk.get(0)).getValue());
        assertTrue((Long) ((Attribute) bulk.get(1)).getValue() > 0);
        remote.setAttribute(vm, new Attribute("CpuShares", 256L));
        assertEquals(256L, remote.getAttribute(vm, "CpuShares"));
        remote.invoke(vm, "setMemory", new Object[] {100L << 20}, new String[] {"long"});
        assertEquals(100L << 20, remote.getAttribute(vm, "CurrentMemoryBytes"));
        CompositeData[] recent = (CompositeData[]) remote.getAttribute(ObjectNames.MANAGER, "RecentEvents");
        assertEquals("started", recent[recent.length - 1].get("event"));
        remote.invoke(vm, "destroy", null, null);
        assertEquals("destroyed", remote.getAttribute(vm, "StateReason"));
    }

    @Test
    void aRemoteClientGetsTheMessageInAClassItHas() throws Exception {
        remote.invoke(ObjectNames.MANAGER, "defineDomain", new Object[] {String.format(XML, "vm1")},
                new String[] {String.class.getName()});
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        RuntimeMBeanException e = assertThrows(RuntimeMBeanException.class,
                () -> remote.invoke(ObjectNames.domain("vm1"), "shutdown", null, null));
        assertInstanceOf(IllegalStateException.class, e.getTargetException());
        assertEquals("[OPERATION_INVALID] domain is not running", e.getTargetException().getMessage());
        assertNull(e.getTargetException().getCause());
    }

    @Test
    void aWrongPasswordIsRefused() {
        assertThrows(SecurityException.class, () -> connect("admin", "wrong"));
    }

    @Test
    void remoteListenersGetEveryNotificationInOrder() throws Exception {
        remote.invoke(ObjectNames.MANAGER, "defineDomain", new Object[] {String.format(XML, "vm1")},
                new String[] {String.class.getName()});
        ObjectName vm = ObjectNames.domain("vm1");
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        remote.invoke(vm, "start", null, null);
        mbeans.awaitIdle(5, TimeUnit.SECONDS);
        List<Notification> got = Collections.synchronizedList(new ArrayList<>());
        remote.addNotificationListener(vm, (n, handback) -> got.add(n), null, null);

        int pairs = 1000;
        driver.burst("vm1", pairs);
        mbeans.awaitIdle(30, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (got.size() < 4 * pairs && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(4 * pairs, got.size(), "a State change and a lifecycle notification per event");
        for (int i = 1; i < got.size(); i++) {
            assertEquals(got.get(i - 1).getSequenceNumber() + 1, got.get(i).getSequenceNumber());
        }
        assertInstanceOf(AttributeChangeNotification.class, got.get(0));
        assertEquals("suspended paused", got.get(1).getMessage());
        assertEquals("resumed unpaused", got.get(got.size() - 1).getMessage());
        assertEquals("vm1", ((CompositeData) got.get(1).getUserData()).get("name"));
    }
}
