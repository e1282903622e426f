package org.kvmtool.manager.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * The distribution as an operator runs it: a copy of karaf-assembly/target/assembly in a temp dir, on free
 * loopback ports, in session mode with short temp dirs (lkvm's socket path must fit), started with bin/start.
 * Talks to it over Jolokia (HTTP) and over Karaf's JMX connector (RMI: notifications, gc()).
 * {@link #close()} kills Karaf and every lkvm whose HOME lies under this instance's run dir.
 */
final class Product implements AutoCloseable {
    static final Duration BOOT_TIMEOUT = Duration.ofMinutes(8);

    final Path home;
    final Path state;            // short: /tmp/kbXXXX
    final Path configDir;
    final Path runDir;
    final Path logDir;
    final String cgroupParent;
    final Path lkvm;
    final int httpPort;
    final int rmiRegistryPort;
    final int rmiServerPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String password;
    private ProcessHandle karaf;
    private JMXConnector jmx;
    long lastBootMillis = -1;
    long lastExecMillis = -1;

    Product(Path lkvm, Map<String, String> extraConfig) throws Exception {
        this.lkvm = lkvm;
        state = Files.createTempDirectory(Path.of("/tmp"), "kb");
        home = state.resolve("karaf");
        Path assembly = Path.of(System.getProperty("kvmtool.assembly"));
        if (!Files.isExecutable(assembly.resolve("bin/start"))) {
            throw new IllegalStateException("no distribution at " + assembly + ": run mvn -DskipTests install first");
        }
        run(state, Duration.ofMinutes(2), "cp", "-a", assembly.toString(), home.toString());
        configDir = state.resolve("c");
        runDir = state.resolve("r");
        logDir = state.resolve("l");
        cgroupParent = "kvmbench" + state.getFileName().toString().substring(2).toLowerCase().replaceAll("[^a-z0-9]", "");
        httpPort = freePort();
        rmiRegistryPort = freePort();
        rmiServerPort = freePort();
        setProperty("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", Integer.toString(httpPort));
        setProperty("etc/org.apache.karaf.shell.cfg", "sshPort", Integer.toString(freePort()));
        setProperty("etc/org.apache.karaf.management.cfg", "rmiRegistryPort", Integer.toString(rmiRegistryPort));
        setProperty("etc/org.apache.karaf.management.cfg", "rmiServerPort", Integer.toString(rmiServerPort));
        Map<String, String> config = new java.util.LinkedHashMap<>();
        config.put("uri", "kvmtool:///session");
        config.put("lkvm.binary", lkvm.toString());
        config.put("config.dir", configDir.toString());
        config.put("run.dir", runDir.toString());
        config.put("log.dir", logDir.toString());
        config.put("cgroup.parent", cgroupParent);
        config.putAll(extraConfig); // a test's own values replace these (system mode: uri, lkvm.user)
        StringBuilder cfg = new StringBuilder();
        config.forEach((k, v) -> cfg.append(k).append(" = ").append(v).append('\n'));
        Files.writeString(home.resolve("etc/org.kvmtool.manager.cfg"), cfg.toString());
        // virsh's socket too: the default one may be held by another instance on the machine
        Files.writeString(home.resolve("etc/org.kvmtool.manager.rpc.cfg"), "socket = " + rpcSocket()
                + "\nsocket_ro = " + rpcReadOnlySocket() + "\n");
    }

    /** virsh's read-write socket of this instance (the manager's own user only). */
    Path rpcSocket() {
        return state.resolve("rpc.sock");
    }

    /** virsh's read-only socket of this instance (every local user). */
    Path rpcReadOnlySocket() {
        return state.resolve("rpc-ro.sock");
    }

    /** bin/start, then waits for Jolokia to answer kvmtool:type=Manager; returns the milliseconds that took. */
    long start() throws Exception {
        lastBootMillis = -1;
        lastExecMillis = -1;
        long t0 = System.nanoTime();
        run(home, Duration.ofMinutes(1), "bin/start");
        karaf = awaitKarafProcess();
        password = Files.readString(home.resolve("etc/admin.password")).trim();
        long deadline = t0 + BOOT_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                Map<String, Object> r = post("{\"type\":\"read\",\"mbean\":\"kvmtool:type=Manager\",\"attribute\":\"Version\"}");
                if (lastBootMillis < 0 && Long.valueOf(200).equals(r.get("status"))) {
                    lastBootMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                }
                // reads answer before Karaf's JMX security lets operations through ("forbidden" meanwhile)
                if (lastBootMillis >= 0 && Long.valueOf(200).equals(post("{\"type\":\"exec\",\"mbean\":"
                        + "\"java.lang:type=Threading\",\"operation\":\"getThreadCpuTime(long)\",\"arguments\":[1]}")
                        .get("status"))) {
                    lastExecMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    awaitSecondStage(deadline);
                    return lastBootMillis;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(20);
        }
        throw new AssertionError("Jolokia did not answer kvmtool:type=Manager within " + BOOT_TIMEOUT);
    }

    /**
     * The boot's second stage (Hawtio) refreshes bundles, Felix SCR and ours among them: meanwhile Jolokia has
     * no restrictor service and refuses everything ("No access from client"). Measuring starts after it:
     * Hawtio lists the kvmtool plugin, then an operation is allowed again.
     */
    private void awaitSecondStage(long deadline) throws Exception {
        // Hawtio's plugin list needs no login; it answers once the second stage has started the console
        HttpRequest hawtio = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/hawtio/plugin"))
                .timeout(Duration.ofSeconds(30)).GET().build();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> plugins = http.send(hawtio, HttpResponse.BodyHandlers.ofString());
                if (plugins.statusCode() == 200 && plugins.body().contains("kvmtool") && Long.valueOf(200).equals(post("{\"type\":\"exec\",\"mbean\":"
                        + "\"java.lang:type=Threading\",\"operation\":\"getThreadCpuTime(long)\",\"arguments\":[1]}")
                        .get("status"))) {
                    return;
                }
            } catch (IOException notYet) {
                // being refreshed
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the boot's second stage (Hawtio at /hawtio/) did not finish within " + BOOT_TIMEOUT);
    }

    /** bin/stop and wait for the JVM to end (guests keep running). */
    void stop() throws Exception {
        closeJmx();
        run(home, Duration.ofMinutes(1), "bin/stop");
        if (karaf != null) {
            try {
                karaf.onExit().get(90, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                karaf.destroyForcibly();
                throw new AssertionError("Karaf did not stop within 90 s of bin/stop");
            }
        }
        karaf = null;
    }

    /** kill -9 of the Karaf JVM. */
    void kill9() throws Exception {
        closeJmx();
        if (karaf != null) {
            karaf.destroyForcibly();
            karaf.onExit().get(30, TimeUnit.SECONDS);
            karaf = null;
        }
    }

    ProcessHandle karaf() {
        return karaf;
    }

    // ------------------------------------------------------------------ Jolokia

    @SuppressWarnings("unchecked")
    Map<String, Object> post(String body) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/jolokia/"))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Basic " + Base64.getEncoder()
                        .encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("HTTP " + response.statusCode() + ": " + response.body());
        }
        return (Map<String, Object>) Json.parse(response.body());
    }

    /** One Jolokia request whose answer must have status 200; returns "value". */
    Object jolokia(String body) throws IOException, InterruptedException {
        Map<String, Object> r = post(body);
        if (!Long.valueOf(200).equals(r.get("status"))) {
            throw new JolokiaError(String.valueOf(r.get("error")), body);
        }
        return r.get("value");
    }

    Object exec(String mbean, String operation, Object... args) throws IOException, InterruptedException {
        String a = Stream.of(args).map(x -> x instanceof String s ? Json.quote(s) : String.valueOf(x))
                .collect(Collectors.joining(","));
        return jolokia("{\"type\":\"exec\",\"mbean\":" + Json.quote(mbean) + ",\"operation\":" + Json.quote(operation)
                + ",\"arguments\":[" + a + "]}");
    }

    Object read(String mbean, String attribute) throws IOException, InterruptedException {
        return jolokia("{\"type\":\"read\",\"mbean\":" + Json.quote(mbean) + ",\"attribute\":" + Json.quote(attribute) + "}");
    }

    static String domain(String name) {
        return "kvmtool:type=Domain,name=" + name;
    }

    /** Milliseconds from defineDomain returning until its Domain MBean answered a read, per definition. */
    final java.util.List<Double> mbeanLagMillis = java.util.Collections.synchronizedList(new ArrayList<>());

    /**
     * defineDomain, then waits until the new Domain MBean answers a read of State: right after defineDomain
     * returns, an operation on the new MBean was seen refused as "forbidden" (an open defect, see the README).
     */
    String define(String xml) throws IOException, InterruptedException {
        String name = (String) exec("kvmtool:type=Manager", "defineDomain", xml);
        awaitMBean(name);
        return name;
    }

    void awaitMBean(String name) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                read(domain(name), "State");
                mbeanLagMillis.add((System.nanoTime() - t0) / 1e6);
                return;
            } catch (JolokiaError notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(1);
            }
        }
    }

    void startDomain(String name) throws IOException, InterruptedException {
        exec(domain(name), "start");
    }

    String state(String name) throws IOException, InterruptedException {
        return (String) read(domain(name), "State");
    }

    long pid(String name) throws IOException, InterruptedException {
        return ((Number) read(domain(name), "Pid")).longValue();
    }

    static final class JolokiaError extends IOException {
        JolokiaError(String error, String request) {
            super(error + " (request " + (request.length() > 200 ? request.substring(0, 200) + "..." : request) + ")");
        }
    }

    // ------------------------------------------------------------------ JMX (RMI)

    MBeanServerConnection jmx() throws IOException {
        if (jmx == null) {
            JMXServiceURL url = new JMXServiceURL("service:jmx:rmi://127.0.0.1:" + rmiServerPort
                    + "/jndi/rmi://127.0.0.1:" + rmiRegistryPort + "/karaf-root");
            jmx = JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS, new String[] {"admin", password}));
        }
        return jmx.getMBeanServerConnection();
    }

    private void closeJmx() {
        if (jmx != null) {
            try {
                jmx.close();
            } catch (IOException ignored) {
                // the server may be gone already
            }
            jmx = null;
        }
    }

    // ------------------------------------------------------------------ guests, files

    static String xml(String name, Path kernel, int memoryMiB) {
        return "<domain type='kvmtool'><name>" + name + "</name><memory unit='MiB'>" + memoryMiB + "</memory>"
                + "<vcpu>1</vcpu><os><type>hvm</type><kernel>" + kernel + "</kernel></os></domain>";
    }

    /** A stand-in marker kernel with the given tokens (see the header of lkvm-standin.c). */
    Path marker(String fileName, String tokens) throws IOException {
        Path p = state.resolve(fileName);
        Files.writeString(p, "KVMTOOL-STANDIN " + tokens + "\n");
        return p;
    }

    /** Every lkvm process this instance started (HOME under the run dir), found through /proc. */
    List<ProcessHandle> lkvmProcesses() {
        String prefix = "HOME=" + runDir;
        List<ProcessHandle> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String n = p.getFileName().toString();
                if (!n.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String env = new String(Files.readAllBytes(p.resolve("environ")), StandardCharsets.UTF_8);
                    for (String e : env.split("\0")) {
                        if (e.startsWith(prefix)) {
                            ProcessHandle.of(Long.parseLong(n)).ifPresent(found::add);
                            break;
                        }
                    }
                } catch (IOException | RuntimeException gone) {
                    // ended meanwhile, or not ours to read
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return found;
    }

    /** The cgroup directories under the configured parent that still exist (v2 or any v1 controller). */
    List<Path> cgroups() {
        List<Path> found = new ArrayList<>();
        for (Path root : List.of(Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup/memory"),
                Path.of("/sys/fs/cgroup/cpu,cpuacct"), Path.of("/sys/fs/cgroup/cpu"), Path.of("/sys/fs/cgroup/pids"))) {
            Path parent = root.resolve(cgroupParent);
            if (Files.isDirectory(parent)) {
                try (Stream<Path> children = Files.list(parent)) {
                    children.filter(Files::isDirectory).forEach(found::add);
                } catch (IOException ignored) {
                    // removed meanwhile
                }
            }
        }
        return found;
    }

    @Override
    public void close() throws Exception {
        try {
            if (karaf != null && karaf.isAlive()) {
                kill9();
            }
        } finally {
            for (ProcessHandle p : lkvmProcesses()) {
                p.destroyForcibly();
            }
            for (Path cg : cgroups()) {
                try {
                    Files.delete(cg);
                } catch (IOException ignored) {
                    // not empty yet or gone
                }
            }
            for (Path root : List.of(Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup/memory"),
                    Path.of("/sys/fs/cgroup/cpu,cpuacct"), Path.of("/sys/fs/cgroup/pids"))) {
                try {
                    Files.deleteIfExists(root.resolve(cgroupParent));
                } catch (IOException ignored) {
                    // not empty
                }
            }
            if (!Boolean.getBoolean("bench.keep")) {
                deleteTree(state);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private ProcessHandle awaitKarafProcess() throws InterruptedException {
        String marker = "-Dkaraf.home=" + home;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (System.nanoTime() < deadline) {
            Optional<ProcessHandle> java = ProcessHandle.allProcesses()
                    .filter(p -> cmdline(p.pid()).contains(marker) && cmdline(p.pid()).contains("org.apache.karaf.main.Main"))
                    .findFirst();
            if (java.isPresent()) {
                return java.get();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no Karaf JVM with " + marker + " after bin/start");
    }

    static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
        } catch (IOException | RuntimeException gone) {
            return "";
        }
    }

    private void setProperty(String file, String key, String value) throws IOException {
        Path path = home.resolve(file);
        String text = Files.readString(path);
        String replaced = text.replaceAll("(?m)^" + Pattern.quote(key) + "\\s*=.*$",
                Matcher.quoteReplacement(key + " = " + value));
        if (text.equals(replaced)) {
            throw new IllegalStateException(key + " not found in " + file);
        }
        Files.writeString(path, replaced);
    }

    static String run(Path dir, Duration timeout, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not end within " + timeout);
        }
        String text = new String(output, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + text);
        }
        return text;
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
