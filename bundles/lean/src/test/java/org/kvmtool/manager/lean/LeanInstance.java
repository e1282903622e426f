package org.kvmtool.manager.lean;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The lean distribution (target/lean) run as a separate process, the way an operator runs it:
 * bin/kvmtool-manager with KVMTOOL_BASE pointing at an instance directory of the test's own, whose etc/ is
 * the distribution's with the test's users and manager configuration. The agent listens on a free port
 * (port=0), read back from its start line. Public, with {@link Jolokia}, for itests/bench (the hostile clients
 * run against this runtime too), which takes them from this module's test-jar.
 */
public final class LeanInstance implements AutoCloseable {
    public static final String ADMIN = "admin";
    public static final String ADMIN_PASSWORD = "admin-pw";
    static final String VIEWER = "viewer";
    static final String VIEWER_PASSWORD = "viewer-pw";
    static final String MANAGER = "kvmtool:type=Manager";
    private static final Pattern AGENT_URL = Pattern.compile("Jolokia: Agent started with URL (\\S+)");

    private final Path home;
    private final Path base;
    private final Map<String, String> env = new LinkedHashMap<>();
    private Process process;
    private URI url;
    private int launches;

    /**
     * @param base    the instance directory (etc/, data/, deploy/ and out-N.log, one per launch)
     * @param manager keys of etc/org.kvmtool.manager.cfg
     * @param rpc     keys of etc/org.kvmtool.manager.rpc.cfg
     */
    public LeanInstance(Path home, Path base, Map<String, String> manager, Map<String, String> rpc) throws IOException {
        this.home = home;
        this.base = base;
        Path etc = Files.createDirectories(base.resolve("etc"));
        try (Stream<Path> files = Files.list(home.resolve("etc"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, etc.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.writeString(etc.resolve("users.properties"), ADMIN + " = " + ADMIN_PASSWORD + ", _g_:admingroup\n"
                + VIEWER + " = " + VIEWER_PASSWORD + ", viewer\n"
                + "nobody = nobody-pw, ssh\n"
                + "_g_\\:admingroup = group, admin, viewer\n");
        Files.writeString(etc.resolve("org.kvmtool.manager.cfg"), cfg(manager));
        Files.writeString(etc.resolve("org.kvmtool.manager.rpc.cfg"), cfg(rpc));
        env.put("KVMTOOL_BASE", base.toString());
        env.put("KVMTOOL_JOLOKIA_OPTS", "port=0");
    }

    /**
     * An instance under {@code dir} in session mode with no lkvm (the MBeans and the agent exist without one),
     * its RPC socket in {@code dir} too.
     */
    static LeanInstance withoutLkvm(Path dir) throws IOException {
        return new LeanInstance(distribution(), dir.resolve("base"),
                Map.of("uri", "kvmtool:///session", "config.dir", dir.resolve("config").toString(),
                        "run.dir", dir.resolve("run").toString(), "log.dir", dir.resolve("log").toString(),
                        "lkvm.binary", dir.resolve("no-lkvm-here").toString()),
                Map.of("socket", dir.resolve("rpc.sock").toString()));
    }

    /** Stops (SIGTERM) and closes; for an @AfterAll, where the instance may not have been made. */
    static void stopAndClose(LeanInstance lean) throws IOException, InterruptedException {
        if (lean != null) {
            try {
                lean.stop(Duration.ofSeconds(30));
            } finally {
                lean.close();
            }
        }
    }

    public static Path distribution() {
        String dir = System.getProperty("kvmtool.lean.dir");
        if (dir == null) {
            throw new IllegalStateException("system property kvmtool.lean.dir (the unpacked distribution) is not set");
        }
        return Path.of(dir);
    }

    Path base() {
        return base;
    }

    /** Extra environment for the next launches (e.g. KVMTOOL_JAVA_OPTS). */
    public LeanInstance env(String name, String value) {
        env.put(name, value);
        return this;
    }

    /**
     * Whether the distribution carries the driver and its MBeans: the core and jmx bundles have Declarative
     * Services components (until those modules land on a branch, they are empty placeholders).
     */
    static boolean hasDriver(Path home) throws IOException {
        return hasComponents(home, "kvmtool-core-") && hasComponents(home, "kvmtool-jmx-");
    }

    private static boolean hasComponents(Path home, String prefix) throws IOException {
        try (Stream<Path> jars = Files.list(home.resolve("bundle"))) {
            for (Path jar : (Iterable<Path>) jars.filter(j -> j.getFileName().toString().startsWith(prefix))::iterator) {
                try (JarFile f = new JarFile(jar.toFile())) {
                    Manifest m = f.getManifest();
                    if (m != null && m.getMainAttributes().getValue("Service-Component") != null) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * Launches bin/kvmtool-manager and waits until the Manager MBean answers over Jolokia (or, in a
     * distribution without the driver, the agent).
     */
    public Duration start(Duration timeout) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        launch();
        awaitAgentUrl(timeout);
        Jolokia admin = admin();
        boolean driver = hasDriver(home);
        long deadline = t0 + timeout.toNanos();
        while (true) {
            Jolokia.Answer a = driver ? admin.read(MANAGER, "Version") : admin.get("version");
            if (a.status() == 200) {
                return Duration.ofNanos(System.nanoTime() - t0);
            }
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new IllegalStateException("the runtime did not answer: " + a.body() + "\n" + log());
            }
            Thread.sleep(10);
        }
    }

    /** Launches and returns as soon as the process is spawned (the benchmark times the rest itself). */
    void launch() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("already running");
        }
        launches++;
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/kvmtool-manager").toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(logFile().toFile());
        pb.environment().putAll(env);
        url = null;
        process = pb.start();
    }

    /** The agent's URL from its start line in the output. */
    public URI awaitAgentUrl(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (url == null) {
            Matcher m = AGENT_URL.matcher(log());
            if (m.find()) {
                url = URI.create(m.group(1));
            } else if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new IllegalStateException("no Jolokia agent URL in the output:\n" + log());
            } else {
                Thread.sleep(5);
            }
        }
        return url;
    }

    public Jolokia admin() {
        return new Jolokia(url, ADMIN, ADMIN_PASSWORD);
    }

    Jolokia viewer() {
        return new Jolokia(url, VIEWER, VIEWER_PASSWORD);
    }

    Jolokia anonymous() {
        return new Jolokia(url, null, null);
    }

    public long pid() {
        return process.pid();
    }

    /** Resident set size of the manager's JVM. */
    long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS for " + pid());
    }

    /** SIGTERM, as systemd stops it; the shutdown hook stops the framework. Returns the exit code. */
    public int stop(Duration timeout) throws InterruptedException, IOException {
        if (process == null || !process.isAlive()) {
            return process == null ? 0 : process.exitValue();
        }
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IllegalStateException("the manager did not stop within " + timeout + "\n" + log());
        }
        return process.exitValue();
    }

    public String log() throws IOException {
        Path f = logFile();
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    }

    private Path logFile() {
        return base.resolve("out-" + launches + ".log");
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String cfg(Map<String, String> keys) {
        StringBuilder b = new StringBuilder();
        keys.forEach((k, v) -> b.append(k).append(" = ").append(v).append('\n'));
        return b.toString();
    }
}
