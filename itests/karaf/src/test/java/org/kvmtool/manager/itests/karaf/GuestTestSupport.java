package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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

    /**
     * Karaf installs the boot features in the framework's start-level thread when its features service happens
     * to find its configuration at once (a race). The features of stage 1 (start level 80) then cannot start
     * until that thread is free, and stage 2's webbundle: URL, whose handler one of them provides, fails after a
     * 2-minute wait: "Unknown protocol: webbundle", and the container never comes up (seen here in 3 of about 12
     * boots on a loaded machine). Installing them in a thread of their own avoids it; the distribution should
     * do the same (etc/org.apache.karaf.features.cfg), and then this option can go.
     */
    @Override
    @org.ops4j.pax.exam.Configuration
    public org.ops4j.pax.exam.Option[] config() throws IOException {
        List<org.ops4j.pax.exam.Option> options = new ArrayList<>(Arrays.asList(super.config()));
        options.add(org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut(
                "etc/org.apache.karaf.features.cfg", "featuresBootAsynchronous", "true"));
        return options.toArray(new org.ops4j.pax.exam.Option[0]);
    }

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

    /** The service.id of the registered DomainDriver (by class name: no wiring to the product), -1 if none. */
    protected long driverServiceId() throws Exception {
        org.osgi.framework.ServiceReference<?>[] refs =
                bundleContext.getServiceReferences("org.kvmtool.manager.api.DomainDriver", null);
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
