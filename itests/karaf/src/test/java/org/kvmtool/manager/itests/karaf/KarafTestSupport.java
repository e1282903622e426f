package org.kvmtool.manager.itests.karaf;

import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.vmOption;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.keepRuntimeFolder;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.inject.Inject;
import javax.security.auth.Subject;

import org.apache.karaf.features.BootFinished;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.apache.karaf.jaas.boot.principal.UserPrincipal;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.Before;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Base of every test that boots the built kvmtool-manager distribution in Pax Exam (JUnit 4 runner, run by the
 * JUnit Platform's vintage engine). One Karaf per test class: put the scenarios of one family in one class.
 *
 * <p>What it sets up: the distribution archive built by karaf-assembly (system property
 * {@code kvmtool.distribution}), free ports for HTTP, ssh and the JMX RMI connector, a test admin and a read-only
 * viewer with known passwords, and etc/org.kvmtool.manager.cfg pointing at the lkvm stand-in (system property
 * {@code kvmtool.standin.lkvm}) with config, run and log directories of its own. Each test method starts once
 * every boot stage is installed. Subclasses add options with {@link #additionalOptions()} and manager settings
 * with {@link #managerConfig(Path)}; helpers: {@link #jolokiaRead}, {@link #jolokiaExec}, {@link #httpGet},
 * {@link #executeCommand}, {@link #executeCommandAs}, {@link #awaitService}, {@link #jmxServiceUrl()}.
 *
 * <p>{@link org.ops4j.pax.exam.Configuration} runs in the test JVM, the test methods inside Karaf: values chosen
 * there (ports, directories) reach the tests as system properties of the Karaf JVM.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public abstract class KarafTestSupport {

    public static final String ADMIN_USER = "admin";
    public static final String ADMIN_PASSWORD = "itest-admin-pw";
    public static final String VIEWER_USER = "viewer";
    public static final String VIEWER_PASSWORD = "itest-viewer-pw";

    /** Roles of the test admin: those of Karaf's admingroup, as bin/setenv gives the generated admin. */
    public static final String[] ADMIN_ROLES = {"admin", "manager", "viewer", "systembundles", "ssh"};

    /** Boot of both stages (Hawtio last) may take minutes on a loaded 2-core machine. */
    public static final Duration BOOT_TIMEOUT = Duration.ofMinutes(5);

    static final String HTTP_PORT = "kvmtool.itest.http.port";
    static final String SSH_PORT = "kvmtool.itest.ssh.port";
    static final String RMI_REGISTRY_PORT = "kvmtool.itest.rmi.registry.port";
    static final String RMI_SERVER_PORT = "kvmtool.itest.rmi.server.port";
    static final String WORK_DIR = "kvmtool.itest.work.dir";
    static final String RPC_SOCKET = "kvmtool.itest.rpc.socket";
    /** A file in the module's target/ that collects the FIGURE lines of every test (inside Karaf and out). */
    static final String FIGURES = "kvmtool.itest.figures";
    /** Path of the lkvm stand-in (set by failsafe; visible inside Karaf too). */
    public static final String STANDIN_LKVM = "kvmtool.standin.lkvm";
    /** Path of the test guest (set by failsafe; visible inside Karaf too). */
    public static final String TEST_GUEST = "kvmtool.test.guest";

    @Inject
    protected BundleContext bundleContext;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    // ---------------------------------------------------------------- configuration (runs in the test JVM)

    @Configuration
    public Option[] config() throws IOException {
        String distribution = requiredProperty("kvmtool.distribution");
        if (!new File(distribution).isFile()) {
            throw new IllegalStateException("no distribution at " + distribution + ": build karaf-assembly first");
        }
        Path work = Files.createTempDirectory("kvmtool-it");   // short: lkvm socket paths must fit in 107 bytes
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {   // after Karaf has stopped
            endLeftoverGuests(work);
            afterKaraf(work);
            deleteTree(work);
        }));
        int httpPort = freePort();
        int sshPort = freePort();
        int rmiRegistryPort = freePort();
        int rmiServerPort = freePort();

        List<Option> options = new ArrayList<>(List.of(
                karafDistributionConfiguration()
                        .frameworkUrl(new File(distribution).toURI().toString())
                        .name("kvmtool-manager")
                        .karafVersion("4.4.10")
                        .unpackDirectory(new File("target/exam"))
                        .useDeployFolder(false),
                keepRuntimeFolder(),
                configureConsole().ignoreLocalConsole(),
                logLevel(LogLevel.INFO),
                vmOption("-Xmx512m"),

                editConfigurationFilePut("etc/users.properties", ADMIN_USER,
                        ADMIN_PASSWORD + "," + String.join(",", ADMIN_ROLES)),
                editConfigurationFilePut("etc/users.properties", VIEWER_USER, VIEWER_PASSWORD + ",viewer"),

                editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", Integer.toString(httpPort)),
                editConfigurationFilePut("etc/org.apache.karaf.shell.cfg", "sshPort", Integer.toString(sshPort)),
                editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiRegistryPort", Integer.toString(rmiRegistryPort)),
                editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiServerPort", Integer.toString(rmiServerPort)),

                systemProperty(HTTP_PORT).value(Integer.toString(httpPort)),
                systemProperty(SSH_PORT).value(Integer.toString(sshPort)),
                systemProperty(RMI_REGISTRY_PORT).value(Integer.toString(rmiRegistryPort)),
                systemProperty(RMI_SERVER_PORT).value(Integer.toString(rmiServerPort)),
                systemProperty(WORK_DIR).value(work.toString()),
                systemProperty(RPC_SOCKET).value(rpcSocket(work).toString()),
                systemProperty(FIGURES).value(new File("target/figures.txt").getAbsolutePath())));

        String localRepository = System.getProperty("kvmtool.itest.local.repository", "");
        if (!localRepository.isEmpty()) {
            options.add(editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg",
                    "org.ops4j.pax.url.mvn.localRepository", localRepository));
        }
        // the stand-in and the test guest, for tests inside Karaf as outside
        for (String name : List.of(STANDIN_LKVM, TEST_GUEST)) {
            String value = System.getProperty(name, "");
            if (!value.isEmpty()) {
                options.add(systemProperty(name).value(value));
            }
        }
        for (Map.Entry<String, String> e : managerConfig(work).entrySet()) {
            options.add(editConfigurationFilePut("etc/org.kvmtool.manager.cfg", e.getKey(), e.getValue()));
        }
        for (Map.Entry<String, String> e : rpcConfig(work).entrySet()) {
            options.add(editConfigurationFilePut("etc/org.kvmtool.manager.rpc.cfg", e.getKey(), e.getValue()));
        }
        options.addAll(Arrays.asList(additionalOptions()));
        return options.toArray(new Option[0]);
    }

    /**
     * Settings written to etc/org.kvmtool.manager.cfg. The default: the lkvm stand-in (when the build made one)
     * and directories of this test run's own, so tests never touch the host's /etc, /run or /var/log.
     * Override to add or change keys (call super and modify the map).
     */
    protected Map<String, String> managerConfig(Path work) {
        Map<String, String> config = new LinkedHashMap<>();
        String standin = System.getProperty(STANDIN_LKVM, "");
        if (!standin.isEmpty()) {
            config.put("lkvm.binary", standin);
        }
        config.put("config.dir", work.resolve("config").toString());
        config.put("run.dir", work.resolve("run").toString());
        config.put("log.dir", work.resolve("log").toString());
        return config;
    }

    /**
     * Settings written to etc/org.kvmtool.manager.rpc.cfg: the libvirt RPC sockets inside this run's work
     * directory, so that neither parallel nor leftover instances (nor a real libvirtd) collide on
     * /var/run/libvirt. Override to change keys (call super and modify the map).
     */
    protected Map<String, String> rpcConfig(Path work) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("socket", rpcSocket(work).toString());
        return config;
    }

    private static Path rpcSocket(Path work) {
        return work.resolve("rpc").resolve("virtkvmtoold-sock");
    }

    /** Runs in the test JVM once Karaf has stopped, before the work directory is deleted (e.g. to remove cgroups). */
    protected void afterKaraf(Path work) {
    }

    /**
     * Guests are meant to outlive Karaf: a test that leaves one running would leak it past the build. Any lkvm
     * whose HOME lies in this run's work directory is ended once Karaf has stopped.
     */
    static void endLeftoverGuests(Path work) {
        String home = "HOME=" + work;
        List<ProcessHandle> ended = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            try {
                byte[] environ = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ"));
                for (String entry : new String(environ, StandardCharsets.UTF_8).split("\0")) {
                    if (entry.startsWith(home + "/") && p.destroyForcibly()) {
                        ended.add(p);
                    }
                }
            } catch (IOException | RuntimeException goneOrNotOurs) {
                // ignore
            }
        });
        // gone for good before anything else is cleaned (a cgroup with a dying task cannot be removed)
        for (ProcessHandle p : ended) {
            try {
                p.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception notYet) {
                // best effort
            }
        }
    }

    /** Extra Pax Exam options for a subclass (features, system properties, ...). */
    protected Option[] additionalOptions() {
        return new Option[0];
    }

    private static String requiredProperty(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("system property " + name + " is not set (failsafe sets it)");
        }
        return value;
    }

    private static void deleteTree(Path root) {
        try (java.util.stream.Stream<Path> paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // best effort: it is a temporary directory
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    // ---------------------------------------------------------------- helpers (run inside Karaf)

    protected static int httpPort() {
        return Integer.getInteger(HTTP_PORT);
    }

    protected static int sshPort() {
        return Integer.getInteger(SSH_PORT);
    }

    /** This run's work directory (holds the manager's config, run and log directories). */
    protected static Path workDir() {
        return Path.of(System.getProperty(WORK_DIR));
    }

    /** The read-write libvirt RPC socket of this container (etc/org.kvmtool.manager.rpc.cfg); "-ro" beside it. */
    protected static Path rpcSocket() {
        return Path.of(System.getProperty(RPC_SOCKET));
    }

    /** Where the distribution under test is unpacked (bin/, etc/, deploy/, data/). */
    protected static Path karafHome() {
        return Path.of(System.getProperty("karaf.home"));
    }

    /** The JConsole/JMX URL of Karaf's RMI connector in this container. */
    protected static String jmxServiceUrl() {
        return "service:jmx:rmi://127.0.0.1:" + Integer.getInteger(RMI_SERVER_PORT)
                + "/jndi/rmi://127.0.0.1:" + Integer.getInteger(RMI_REGISTRY_PORT) + "/karaf-root";
    }

    protected static String baseUrl() {
        return "http://127.0.0.1:" + httpPort();
    }

    /**
     * Every test starts once Karaf has installed every boot stage (Hawtio is the last one): the second stage
     * refreshes bundles, so anything looked at earlier could still change under the test.
     */
    @Before
    public final void awaitBootFinished() throws InterruptedException {
        awaitService(BootFinished.class, null, BOOT_TIMEOUT);
    }

    /** Waits for a service (optionally matching an LDAP filter) and returns it. */
    protected <T> T awaitService(Class<T> type, String filter, Duration timeout) throws InterruptedException {
        BundleContext context = FrameworkUtil.getBundle(getClass()).getBundleContext();
        String objectClass = "(objectClass=" + type.getName() + ")";
        Filter f;
        try {
            f = context.createFilter(filter == null ? objectClass : "(&" + objectClass + filter + ")");
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(filter, e);
        }
        ServiceTracker<T, T> tracker = new ServiceTracker<>(context, f, null);
        tracker.open();
        try {
            ServiceReference<T> reference = null;
            if (tracker.waitForService(timeout.toMillis()) != null) {
                reference = tracker.getServiceReference();
            }
            T service = reference == null ? null : context.getService(reference);
            if (service == null) {
                throw new AssertionError("no " + type.getName() + (filter == null ? "" : " " + filter)
                        + " within " + timeout);
            }
            // Got through the context, not the tracker: the object stays valid after the tracker closes
            // (ServiceFactory services such as ConfigurationAdmin are released when their last user ungets them).
            return service;
        } finally {
            tracker.close();
        }
    }

    /** An HTTP answer: status and body. */
    public record HttpAnswer(int status, String body) {
    }

    /** GET baseUrl()+path, with basic auth when user is not null. */
    protected HttpAnswer httpGet(String path, String user, String password) throws IOException, InterruptedException {
        return send(request(path, user, password).GET().build());
    }

    /** POST a JSON body to baseUrl()+path, with basic auth when user is not null. */
    protected HttpAnswer httpPostJson(String path, String json, String user, String password)
            throws IOException, InterruptedException {
        return send(request(path, user, password)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    /** Jolokia read of one attribute at /jolokia; the body is Jolokia's JSON answer. */
    protected HttpAnswer jolokiaRead(String mbean, String attribute, String user, String password)
            throws IOException, InterruptedException {
        return jolokiaPost("{\"type\":\"read\",\"mbean\":\"" + jsonEscape(mbean) + "\",\"attribute\":\""
                + jsonEscape(attribute) + "\"}", user, password);
    }

    /** Jolokia exec of an operation at /jolokia; arguments are given as JSON literals (e.g. "\"text\"", "42"). */
    protected HttpAnswer jolokiaExec(String mbean, String operation, String user, String password,
            String... jsonArguments) throws IOException, InterruptedException {
        return jolokiaPost("{\"type\":\"exec\",\"mbean\":\"" + jsonEscape(mbean) + "\",\"operation\":\""
                + jsonEscape(operation) + "\",\"arguments\":[" + String.join(",", jsonArguments) + "]}",
                user, password);
    }

    /** Any Jolokia request (JSON) POSTed to /jolokia. */
    protected HttpAnswer jolokiaPost(String requestJson, String user, String password)
            throws IOException, InterruptedException {
        return httpPostJson("/jolokia", requestJson, user, password);
    }

    /** Polls GET path until it answers expectedStatus, or fails after timeout. */
    protected HttpAnswer awaitHttp(String path, String user, String password, int expectedStatus, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpAnswer last = null;
        IOException lastError = null;
        while (System.nanoTime() < deadline) {
            try {
                last = httpGet(path, user, password);
                if (last.status() == expectedStatus) {
                    return last;
                }
            } catch (IOException e) {
                lastError = e;   // not listening yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError("GET " + path + " did not answer " + expectedStatus + " within " + timeout
                + "; last: " + (last != null ? last.status() + " " + last.body() : lastError));
    }

    static String jsonEscape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    private HttpRequest.Builder request(String path, String user, String password) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(baseUrl() + path))
                .timeout(Duration.ofSeconds(60));
        if (user != null) {
            String token = Base64.getEncoder()
                    .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
            builder.header("Authorization", "Basic " + token);
        }
        return builder;
    }

    private HttpAnswer send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        return new HttpAnswer(response.statusCode(), response.body());
    }

    /** Runs a Karaf shell command as the test admin and returns what it printed (and its result). */
    protected String executeCommand(String command) throws Exception {
        return executeCommandAs(ADMIN_USER, command, ADMIN_ROLES);
    }

    /**
     * Runs a Karaf shell command as a user holding the given roles (Karaf's command ACLs apply), and returns what
     * it printed followed by its result. A command that fails throws its exception.
     */
    protected String executeCommandAs(String user, String command, String... roles) throws Exception {
        SessionFactory sessionFactory = awaitService(SessionFactory.class, null, Duration.ofSeconds(60));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        InputStream in = InputStream.nullInputStream();
        Subject subject = new Subject();
        subject.getPrincipals().add(new UserPrincipal(user));
        for (String role : roles) {
            subject.getPrincipals().add(new RolePrincipal(role));
        }
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try (Session session = sessionFactory.create(in, out, out)) {
            Future<Object> result = executor.submit(() -> Subject.doAs(subject,
                    (PrivilegedExceptionAction<Object>) () -> session.execute(command)));
            Object value;
            try {
                value = result.get(2, TimeUnit.MINUTES);
            } catch (TimeoutException e) {
                result.cancel(true);
                throw new AssertionError("command did not end within 2 minutes: " + command);
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof java.security.PrivilegedActionException p) {
                    cause = p.getException();
                }
                if (cause instanceof Exception ex) {
                    throw ex;
                }
                throw e;
            }
            out.flush();
            return bytes.toString(StandardCharsets.UTF_8) + (value == null ? "" : value.toString());
        } finally {
            executor.shutdownNow();
        }
    }
}
