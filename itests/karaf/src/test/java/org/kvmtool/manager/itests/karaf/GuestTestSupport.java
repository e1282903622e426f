package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.security.auth.Subject;

import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.apache.karaf.jaas.boot.principal.UserPrincipal;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.After;
import org.osgi.framework.Bundle;

/**
 * Base of the Karaf tests that run guests (the lkvm stand-in with the real-mode test guest): the manager in
 * session mode (lkvm as the test's own user, no lkvm.user needed), a short shutdown timeout, a cgroup parent of
 * this run's own (removed afterwards), and helpers that look at the domains the way an operator's tools do:
 * the platform MBeanServer (the kvmtool MBeans), the shell, and files.
 *
 * <p>Every domain a test leaves behind is destroyed and undefined after it, so the tests of a class are
 * independent of their order and no lkvm outlives the class.
 *
 * <p>Deliberately free of the product's classes (org.kvmtool.manager.api): the probe then has no wiring to
 * kvmtool bundles, and survives their updates, refreshes and reinstallation.
 */
public abstract class GuestTestSupport extends KarafTestSupport {

    static final String CGROUP_PARENT = "kvmtool.itest.cgroup.parent";
    static final Duration WAIT = Duration.ofSeconds(30);

    @Override
    protected Map<String, String> managerConfig(Path work) {
        Map<String, String> config = super.managerConfig(work);
        config.put("uri", "kvmtool:///session");
        config.put("shutdown.timeout.seconds", "3");
        config.put("cgroup.parent", cgroupParent(work));
        return config;
    }

    /** One parent per run: the domains' cgroups (NAME.kvmtool) never meet those of another run on the host. */
    static String cgroupParent(Path work) {
        return "kvmtool-it-" + work.getFileName().toString().replaceAll("[^A-Za-z0-9]", "");
    }

    @Override
    protected void afterKaraf(Path work) {
        removeCgroups(work);
    }

    /** Removes this run's cgroup parent (empty once every guest has ended), in every hierarchy. */
    static void removeCgroups(Path work) {
        String parent = cgroupParent(work);
        try (var roots = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path root : (Iterable<Path>) roots::iterator) {
                rmdirTree(root.resolve(parent));
            }
            rmdirTree(Path.of("/sys/fs/cgroup", parent));
        } catch (IOException | RuntimeException e) {
            // best effort: no cgroup hierarchy here
        }
    }

    /** cgroup directories are removed with rmdir, children first; their files cannot be deleted. */
    private static void rmdirTree(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var children = Files.list(dir)) {
            for (Path child : (Iterable<Path>) children::iterator) {
                if (Files.isDirectory(child)) {
                    rmdirTree(child);
                }
            }
        } catch (IOException e) {
            return;
        }
        dir.toFile().delete();
    }

    // ---------------------------------------------------------------- domains

    /** The real-mode test guest (the stand-in emulates it): "GUEST READY", echo, 'q' powers off. */
    protected static String guestXml(String name) {
        return domainXml(name, System.getProperty(TEST_GUEST), 32);
    }

    /**
     * A guest that behaves like Linux on the stand-in (SysRq s, u, b honoured, so shutdown ends it by itself):
     * a marker file for the stand-in, written once into the work directory.
     */
    protected static String linuxXml(String name) throws IOException {
        Path marker = workDir().resolve("linux.marker");
        if (!Files.exists(marker)) {
            Files.writeString(marker, "KVMTOOL-STANDIN linux\n");
        }
        return domainXml(name, marker.toString(), 32);
    }

    protected static String domainXml(String name, String kernel, int mib) {
        return "<domain type='kvmtool'>\n  <name>" + name + "</name>\n  <memory unit='MiB'>" + mib
                + "</memory>\n  <vcpu>1</vcpu>\n  <os>\n    <type>hvm</type>\n    <kernel>" + kernel
                + "</kernel>\n  </os>\n</domain>\n";
    }

    /** Writes a file into the work directory (for define/create FILE) and returns its path. */
    protected static Path writeFile(String fileName, String content) throws IOException {
        Path file = workDir().resolve("files").resolve(fileName);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }

    protected static Path consoleLogFile(String domain) {
        return workDir().resolve("log").resolve(domain + ".log");
    }

    // ---------------------------------------------------------------- JMX (the platform MBeanServer in Karaf)

    protected static MBeanServer mbeans() {
        return ManagementFactory.getPlatformMBeanServer();
    }

    protected static ObjectName managerName() {
        return objectName("kvmtool:type=Manager");
    }

    protected static ObjectName domainName(String domain) {
        return objectName("kvmtool:type=Domain,name=" + domain);
    }

    static ObjectName objectName(String name) {
        try {
            return new ObjectName(name);
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalArgumentException(name, e);
        }
    }

    /** An attribute of a domain's MBean (waiting for the MBean if the domain was defined a moment ago). */
    protected static Object attribute(String domain, String attribute) throws Exception {
        if (!registered(domain)) {
            await(() -> registered(domain), Duration.ofSeconds(10), "the MBean of " + domain + " registered");
        }
        return mbeans().getAttribute(domainName(domain), attribute);
    }

    protected static String state(String domain) throws Exception {
        return (String) attribute(domain, "State");
    }

    protected static long pid(String domain) throws Exception {
        return (Long) attribute(domain, "Pid");
    }

    protected static Object invoke(String domain, String operation, Object... args) throws Exception {
        if (!registered(domain)) {
            await(() -> registered(domain), Duration.ofSeconds(10), "the MBean of " + domain + " registered");
        }
        String[] signature = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            signature[i] = args[i] instanceof Integer ? "int" : args[i] instanceof Long ? "long"
                    : args[i].getClass().getName();
        }
        return mbeans().invoke(domainName(domain), operation, args, signature);
    }

    /** Manager.defineDomain, then waits for the domain's MBean (registered on the driver's event, a moment later). */
    protected static String defineDomain(String xml) throws Exception {
        String name = (String) mbeans().invoke(managerName(), "defineDomain", new Object[] {xml},
                new String[] {String.class.getName()});
        await(() -> registered(name), WAIT, "the MBean of " + name + " registered");
        return name;
    }

    protected static List<String> domainNames() throws Exception {
        return Arrays.asList((String[]) mbeans().getAttribute(managerName(), "DomainNames"));
    }

    protected static boolean registered(String domain) {
        return mbeans().isRegistered(domainName(domain));
    }

    protected static String consoleLog(String domain) throws Exception {
        return (String) invoke(domain, "consoleLog", 65536);
    }

    /** Defines and starts a test guest through JMX and waits for its banner; returns its pid. */
    protected long startGuest(String name) throws Exception {
        return startGuest(name, guestXml(name));
    }

    protected long startGuest(String name, String xml) throws Exception {
        awaitManager();
        defineDomain(xml);
        invoke(name, "start");
        await(() -> consoleLog(name).contains("READY"), WAIT,
                name + " prints its banner");
        return pid(name);
    }

    /** Waits until the manager's MBean answers (after a boot, an update, a refresh). */
    protected static void awaitManager() throws Exception {
        await(() -> mbeans().isRegistered(managerName()), Duration.ofMinutes(2), "kvmtool:type=Manager registered");
    }

    /**
     * The service.id of the registered DomainDriver, -1 if none. By class name and through getAllServiceReferences:
     * getServiceReferences checks that the probe sees the same api package, and with that wires the probe to
     * kvmtool-api (a dynamic import), whose refresh would then refresh the probe too.
     */
    protected long driverServiceId() throws Exception {
        org.osgi.framework.ServiceReference<?>[] refs =
                bundleContext.getAllServiceReferences("org.kvmtool.manager.api.DomainDriver", null);
        return refs == null || refs.length == 0 ? -1 : (Long) refs[0].getProperty("service.id");
    }

    /**
     * Waits for a driver other than the one with service.id {@code before}: bundle:refresh works asynchronously,
     * and the old driver answers until the refresh reaches it.
     */
    protected void awaitNewDriver(long before) throws Exception {
        await(() -> {
            long now = driverServiceId();
            return now != -1 && now != before;
        }, WAIT, "a new driver registered (the old one had service.id " + before + ")");
        awaitManager();
    }

    /** Sends text to a guest's console and waits for the test guest's echo in the console log. */
    protected static void assertEchoes(String domain, String text) throws Exception {
        invoke(domain, "sendConsole", text);
        await(() -> consoleLog(domain).contains(text), WAIT, domain + " echoes '" + text + "'");
    }

    protected static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                && !procState(pid).equals("Z");
    }

    /** The state letter of /proc/PID/stat (R, S, Z, ...), "" if gone. */
    static String procState(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    @After
    public void removeDomains() throws Exception {
        if (!mbeans().isRegistered(managerName())) {
            return;
        }
        for (String name : domainNames()) {
            try {
                if (!"shutoff".equals(state(name))) {
                    invoke(name, "destroy");
                }
            } catch (Exception e) {
                // ended meanwhile
            }
            try {
                if (registered(name) && (Boolean) attribute(name, "Persistent")) {
                    invoke(name, "undefine");
                }
            } catch (Exception e) {
                // gone meanwhile
            }
        }
    }

    // ---------------------------------------------------------------- guests that must outlive bundle updates

    /** Defines and starts test guests; their pids by name. */
    protected Map<String, Long> startGuests(List<String> names) throws Exception {
        awaitManager();
        Map<String, Long> pids = new LinkedHashMap<>();
        for (String name : names) {
            pids.put(name, startGuest(name));
        }
        return pids;
    }

    protected static boolean allBack(Map<String, Long> pids) throws Exception {
        for (Map.Entry<String, Long> e : pids.entrySet()) {
            if (!registered(e.getKey()) || !"running".equals(state(e.getKey())) || pid(e.getKey()) != e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /**
     * After an update: every guest running with its pid (its MBean back), never stopped, its console carrying
     * input and output (an echo in consoleLog and in the log file), its history kept (ring and file).
     */
    protected void assertGuestsUntouched(Map<String, Long> pids, String after) throws Exception {
        awaitManager();
        await(() -> allBack(pids), WAIT, "every guest back after " + after);
        for (Map.Entry<String, Long> e : pids.entrySet()) {
            String name = e.getKey();
            assertTrue(name + " lkvm alive after " + after, alive(e.getValue()));
            assertEquals(name + " state after " + after, "running", state(name));
            assertEquals(name + " pid after " + after, (long) e.getValue(), pid(name));
            long logged = Files.size(consoleLogFile(name));
            String marker = "after-" + Long.toHexString(System.nanoTime());
            assertEchoes(name, marker);
            await(() -> Files.size(consoleLogFile(name)) > logged
                    && Files.readString(consoleLogFile(name)).contains(marker), WAIT,
                    name + "'s console log file grows with the echo after " + after);
            assertTrue(name + "'s console log file keeps what came before",
                    Files.readString(consoleLogFile(name)).contains("GUEST READY"));
            assertTrue(name + "'s consoleLog keeps what came before", consoleLog(name).contains("GUEST READY"));
            // no stop was ever recorded: the reason is still the one of the start
            assertEquals(name + " reason after " + after, "booted", attribute(name, "StateReason"));
        }
        // the shell's commands come back with its bundle (or the driver) a moment later
        await(() -> {
            String list = executeCommand("kvmtool:list");
            return pids.keySet().stream().allMatch(list::contains);
        }, WAIT, "kvmtool:list shows every guest after " + after);
    }

    protected Bundle bundle(String symbolicName) {
        for (Bundle b : bundleContext.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + symbolicName);
    }

    /** Copies the bundle's jar with one entry more: a different build with the same name and version. */
    protected static void rebuild(Bundle bundle, Path target, String entry, String content) throws IOException {
        Path built;
        try (var jars = Files.walk(karafHome().resolve("system/org/kvmtool/manager/" + bundle.getSymbolicName()))) {
            built = jars.filter(p -> p.getFileName().toString().endsWith(".jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no jar of " + bundle.getSymbolicName() + " in system/"));
        }
        try (InputStream in = Files.newInputStream(built);
             JarInputStream jar = new JarInputStream(in);
             OutputStream out = Files.newOutputStream(target);
             JarOutputStream copy = new JarOutputStream(out, jar.getManifest())) {
            byte[] buf = new byte[8192];
            for (JarEntry e; (e = jar.getNextJarEntry()) != null;) {
                copy.putNextEntry(new JarEntry(e.getName()));
                for (int n; (n = jar.read(buf)) > 0;) {
                    copy.write(buf, 0, n);
                }
                copy.closeEntry();
            }
            copy.putNextEntry(new JarEntry(entry));
            copy.write(content.getBytes(StandardCharsets.UTF_8));
            copy.closeEntry();
        }
    }

    // ---------------------------------------------------------------- waiting

    protected static void await(Callable<Boolean> condition, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (Boolean.TRUE.equals(condition.call())) {
                    return;
                }
                last = null;
            } catch (Exception e) {
                last = e;   // e.g. an MBean that is not (yet) registered
            }
            Thread.sleep(20);
        }
        throw new AssertionError("not within " + timeout + ": " + what + (last == null ? "" : " (last: " + last + ")"));
    }

    // ---------------------------------------------------------------- shell

    /** A shell command that failed: its text, and what the console would have printed (a CommandException's help). */
    public static final class CommandFailed extends Exception {
        private static final long serialVersionUID = 1L;
        final String printed;

        CommandFailed(String command, Exception cause) {
            super("'" + command + "' failed: " + printed(cause), cause);
            this.printed = printed(cause);
        }

        /** Karaf prints a CommandException's "nice help" (ours: "error: ..."); other failures as their message. */
        private static String printed(Exception e) {
            try {
                Object help = e.getClass().getMethod("getNiceHelp").invoke(e);
                if (help != null) {
                    return help.toString();
                }
            } catch (ReflectiveOperationException | RuntimeException notACommandException) {
                // fall through
            }
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    /** As {@link KarafTestSupport#executeCommandAs}, but a failure says which command failed and what it printed. */
    @Override
    protected String executeCommandAs(String user, String command, String... roles) throws Exception {
        try {
            return super.executeCommandAs(user, command, roles);
        } catch (CommandFailed e) {
            throw e;
        } catch (Exception e) {
            throw new CommandFailed(command, e);
        }
    }

    /** Runs a command that is expected to fail; returns what it printed as its failure. */
    protected String failingCommand(String command) throws Exception {
        return failingCommandAs(ADMIN_USER, command, ADMIN_ROLES);
    }

    protected String failingCommandAs(String user, String command, String... roles) throws Exception {
        try {
            String output = executeCommandAs(user, command, roles);
            throw new AssertionError("'" + command + "' did not fail; it printed: " + output);
        } catch (CommandFailed e) {
            return e.printed;
        }
    }

    /**
     * A shell command running in its own session with a keyboard the test types on (the kvmtool:console case):
     * its output is readable while it runs.
     */
    protected final class Interactive implements AutoCloseable {
        private final PipedOutputStream keys = new PipedOutputStream();
        private final ByteArrayOutputStream output = new ByteArrayOutputStream();
        private final ExecutorService executor = Executors.newSingleThreadExecutor();
        private final Future<Object> result;
        private final Session session;

        Interactive(String command) throws Exception {
            SessionFactory factory = awaitService(SessionFactory.class, null, Duration.ofSeconds(60));
            PipedInputStream in = new PipedInputStream(keys, 4096);
            PrintStream out = new PrintStream(new SynchronizedOutput(output), true, StandardCharsets.UTF_8);
            session = factory.create(in, out, out);
            Subject subject = new Subject();
            subject.getPrincipals().add(new UserPrincipal(ADMIN_USER));
            for (String role : ADMIN_ROLES) {
                subject.getPrincipals().add(new RolePrincipal(role));
            }
            result = executor.submit(() -> Subject.doAs(subject,
                    (PrivilegedExceptionAction<Object>) () -> session.execute(command)));
        }

        public void type(String text) throws IOException {
            keys.write(text.getBytes(StandardCharsets.UTF_8));
            keys.flush();
        }

        public String output() {
            synchronized (output) {
                return output.toString(StandardCharsets.UTF_8);
            }
        }

        public void awaitOutput(String expected) throws Exception {
            await(() -> output().contains(expected), WAIT, "the session prints '" + expected + "'; it printed: "
                    + output());
        }

        /** Waits for the command's end and returns its output. */
        public String end() throws Exception {
            try {
                result.get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new AssertionError("the command failed: " + e.getCause() + "; output: " + output(), e);
            }
            return output();
        }

        public boolean done() {
            return result.isDone();
        }

        @Override
        public void close() {
            result.cancel(true);
            executor.shutdownNow();
            session.close();
        }
    }

    /** A stream the session's threads and the test write and read concurrently. */
    private static final class SynchronizedOutput extends java.io.OutputStream {
        private final ByteArrayOutputStream target;

        SynchronizedOutput(ByteArrayOutputStream target) {
            this.target = target;
        }

        @Override
        public void write(int b) {
            synchronized (target) {
                target.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            synchronized (target) {
                target.write(b, off, len);
            }
        }
    }

    // ---------------------------------------------------------------- processes

    /** Result of an external command: exit code and its output (stdout and stderr merged). */
    public record Run(int exitCode, String output) {
    }

    /** Runs an external command (bin/client, virsh, ...) with stdin, within a timeout. */
    protected static Run run(Duration timeout, String stdin, List<String> command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.directory(karafHome().toFile());
        Process process = builder.start();
        ExecutorService io = Executors.newSingleThreadExecutor();
        try {
            Future<byte[]> output = io.submit(() -> process.getInputStream().readAllBytes());
            try (var in = process.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(command + " did not end within " + timeout);
            }
            return new Run(process.exitValue(), new String(output.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        } finally {
            io.shutdownNow();
        }
    }

    protected static List<String> list(String... items) {
        return new ArrayList<>(Arrays.asList(items));
    }

    /** The first group of a pattern in a text, or fails saying what was looked for. */
    protected static String find(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        assertTrue("'" + regex + "' in:\n" + text, m.find());
        return m.group(1);
    }
}
