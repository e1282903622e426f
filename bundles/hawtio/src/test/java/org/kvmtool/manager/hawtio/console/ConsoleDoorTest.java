package org.kvmtool.manager.hawtio.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.annotation.Annotation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import javax.security.auth.Subject;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;
import org.eclipse.jetty.websocket.jsr356.server.deploy.WebSocketServerContainerInitializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.testing.FakeDomainDriver;

/**
 * The console door over a real WebSocket: Jetty 9.4's JSR 356 container, as Pax Web runs it in Karaf, serving
 * {@link ConsoleServlet} at /kvmtool/console/*, the JDK's WebSocket client as the browser, the fake driver's
 * guest (its console echoes in upper case) and a stand-in for Karaf's JMX security MBean that decides on the
 * caller's roles as etc/jmx.acl.kvmtool.cfg does (sendConsole: admin only).
 */
class ConsoleDoorTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String ORIGIN_OK = "http://127.0.0.1:8181";

    @TempDir
    Path tmp;

    private final FakeDomainDriver driver = new FakeDomainDriver();
    private final MBeanServer mbeans = MBeanServerFactory.newMBeanServer();
    private final HttpClient http = HttpClient.newHttpClient();
    private Server jetty;
    private ConsoleDoor door;
    private String base;

    /** Karaf's role principal, as its login modules put it into a subject. */
    record RolePrincipal(String getName) implements Principal {
    }

    record UserPrincipal(String getName) implements Principal {
    }

    public interface SecurityMBean {
        boolean canInvoke(String objectName, String operation);
    }

    /** Answers for the subject of the calling thread, as Karaf's JMXSecurityMBean does. */
    public static final class FakeKarafSecurity implements SecurityMBean {
        @Override
        @SuppressWarnings("removal")
        public boolean canInvoke(String objectName, String operation) {
            Subject s = Subject.getSubject(java.security.AccessController.getContext());
            boolean admin = s != null && s.getPrincipals(RolePrincipal.class).contains(new RolePrincipal("admin"));
            boolean viewer = s != null && s.getPrincipals(RolePrincipal.class).contains(new RolePrincipal("viewer"));
            return operation.startsWith("get") ? admin || viewer : admin;
        }
    }

    static Subject user(String name, String... roles) {
        Subject s = new Subject();
        s.getPrincipals().add(new UserPrincipal(name));
        for (String r : roles) {
            s.getPrincipals().add(new RolePrincipal(r));
        }
        return s;
    }

    private final Subject admin = user("admin", "admin", "viewer");
    private final Subject viewer = user("viewer", "viewer");

    static ConsoleDoor.Config config() {
        return new ConsoleDoor.Config() {
            @Override public Class<? extends Annotation> annotationType() { return ConsoleDoor.Config.class; }
            @Override public String origin_policy() { return ""; }
            @Override public int ticket_seconds() { return 30; }
            @Override public int history_bytes() { return 16; }
            @Override public long backlog_bytes() { return 1 << 20; }
            @Override public String realm() { return "karaf"; }
            @Override public String security_mbean() { return "org.apache.karaf:type=security,area=jmx,*"; }
        };
    }

    @BeforeEach
    void start() throws Exception {
        mbeans.registerMBean(new StandardMBean(new FakeKarafSecurity(), SecurityMBean.class),
                new ObjectName("org.apache.karaf:type=security,area=jmx,name=root"));
        Path policy = tmp.resolve("jolokia-access.xml");
        Files.writeString(policy, "<restrict><cors><allow-origin>" + ORIGIN_OK + "</allow-origin></cors></restrict>");
        door = new ConsoleDoor(driver, mbeans, config(), OriginPolicy.read(policy));

        jetty = new Server();
        ServerConnector connector = new ServerConnector(jetty);
        connector.setHost("127.0.0.1");
        jetty.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler(ServletContextHandler.SESSIONS);
        context.setContextPath("/kvmtool");
        context.addServlet(new ServletHolder(new ConsoleServlet(() -> door)), "/console/*");
        WebSocketServerContainerInitializer.configure(context, null);
        jetty.setHandler(context);
        jetty.start();
        base = "ws://127.0.0.1:" + connector.getLocalPort() + "/kvmtool/console/";

        driver.define("<domain type='kvmtool'><name>vm1</name></domain>");
        driver.start("vm1");
    }

    @AfterEach
    void stop() throws Exception {
        jetty.stop();
        door.close();
    }

    @SuppressWarnings("removal")
    private String ticket(Subject who, String domain) throws Exception {
        return Subject.doAs(who, (PrivilegedExceptionAction<String>) () ->
                (String) mbeans.invoke(new ObjectName(ConsoleDoor.OBJECT_NAME), "ticket", new Object[] {domain},
                        new String[] {String.class.getName()}));
    }

    /** A browser-like client: everything it receives, and how the server closed. */
    static final class Terminal implements WebSocket.Listener {
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        final StringBuilder notices = new StringBuilder();
        final CompletableFuture<String> closed = new CompletableFuture<>();
        WebSocket socket;

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            synchronized (this) {
                byte[] b = new byte[data.remaining()];
                data.get(b);
                received.writeBytes(b);
                notifyAll();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence text, boolean last) {
            synchronized (this) {
                notices.append(text);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            closed.complete(code + " " + reason);
            return null;
        }

        synchronized String text() {
            return received.toString(StandardCharsets.UTF_8);
        }

        synchronized boolean await(String s) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!text().contains(s)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }

        void type(String keys) {
            socket.sendBinary(ByteBuffer.wrap(keys.getBytes(StandardCharsets.UTF_8)), true).join();
        }

        String closeOf() throws Exception {
            return closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private Terminal open(String domain, String query, String origin) {
        Terminal t = new Terminal();
        WebSocket.Builder b = http.newWebSocketBuilder();
        if (origin != null) {
            b.header("Origin", origin);
        }
        t.socket = b.buildAsync(URI.create(base + domain + query), t).join();
        return t;
    }

    /** The HTTP status a refused handshake answered with. */
    private int refusal(String domain, String query, String origin) {
        CompletionException e = assertThrows(CompletionException.class, () -> open(domain, query, origin));
        assertTrue(e.getCause() instanceof WebSocketHandshakeException, String.valueOf(e.getCause()));
        return ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode();
    }

    @Test
    void anAdminWithATicketGetsTheHistoryThenEachKeyEchoed() throws Exception {
        Terminal t = open("vm1", "?ticket=" + ticket(admin, "vm1"), ORIGIN_OK);
        // the fake's console: its log's last 16 bytes (the history), then its banner
        assertTrue(t.await("guest vm1 ready\n[fake kvmtool console of vm1]\r\n"), t.text());
        t.type("a");
        assertTrue(t.await("]\r\nA"), t.text());
        t.type("b");
        assertTrue(t.await("]\r\nAB"), "each key on its own, no Enter: " + t.text());
        t.socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        assertTrue(t.closeOf().startsWith("1000"));
    }

    @Test
    void aTicketServesOnce() throws Exception {
        String ticket = ticket(admin, "vm1");
        Terminal t = open("vm1", "?ticket=" + ticket, ORIGIN_OK);
        assertTrue(t.await("console of vm1"));
        assertEquals(401, refusal("vm1", "?ticket=" + ticket, ORIGIN_OK));
        assertEquals(401, refusal("vm1", "?ticket=" + ticket(admin, "vm2"), ORIGIN_OK), "a ticket names its domain");
    }

    @Test
    void aViewerIsKnownButRefused() throws Exception {
        assertEquals(403, refusal("vm1", "?ticket=" + ticket(viewer, "vm1"), ORIGIN_OK));
    }

    @Test
    void nobodyKnownIsAskedToLogIn() {
        assertEquals(401, refusal("vm1", "", ORIGIN_OK));
        assertEquals(401, refusal("vm1", "?ticket=made-up", ORIGIN_OK));
        assertEquals(401, refusal("vm1", "", null), "no Origin: no browser, still nobody");
    }

    @Test
    void anotherSitesPageIsRefusedBeforeAnythingElse() throws Exception {
        String ticket = ticket(admin, "vm1");
        assertEquals(403, refusal("vm1", "?ticket=" + ticket, "http://evil.example"));
        Terminal t = open("vm1", "?ticket=" + ticket, ORIGIN_OK);
        assertTrue(t.await("console of vm1"), "the refused page did not use the ticket up");
    }

    @Test
    void noTicketWithoutALoggedInCaller() {
        Exception e = assertThrows(Exception.class, () -> mbeans.invoke(new ObjectName(ConsoleDoor.OBJECT_NAME),
                "ticket", new Object[] {"vm1"}, new String[] {String.class.getName()}));
        assertTrue(String.valueOf(e.getCause()).contains("no logged-in user"), String.valueOf(e.getCause()));
    }

    @Test
    void aConsoleThatIsNotThereClosesWithItsReason() throws Exception {
        driver.define("<domain type='kvmtool'><name>off</name></domain>");
        Terminal t = open("off", "?ticket=" + ticket(admin, "off"), ORIGIN_OK);
        String close = t.closeOf();
        assertTrue(close.startsWith(CloseCodes.REFUSED + " "), close);
        assertTrue(close.contains("not running"), close);
    }

    @Test
    void theEndOfTheGuestEndsTheTerminal() throws Exception {
        Terminal t = open("vm1", "?ticket=" + ticket(admin, "vm1"), ORIGIN_OK);
        assertTrue(t.await("console of vm1"));
        driver.destroy("vm1");
        assertEquals(CloseCodes.ENDED + " the console of 'vm1' ended", t.closeOf());
    }

    @Test
    void notAWebSocketOrNotADomain() throws Exception {
        java.net.http.HttpResponse<String> plain = http.send(java.net.http.HttpRequest.newBuilder(
                URI.create(base.replace("ws:", "http:") + "vm1")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(400, plain.statusCode());
        assertEquals(404, refusal("..", "", ORIGIN_OK));
    }
}
