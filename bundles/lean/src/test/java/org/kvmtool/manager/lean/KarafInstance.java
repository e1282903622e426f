package org.kvmtool.manager.lean;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The Karaf distribution (karaf-assembly/target/assembly), copied to a directory of the benchmark's own and
 * given the same users and manager configuration as the lean instance, on free ports. Only the benchmark
 * uses it: the same scenario, for comparison.
 */
final class KarafInstance implements AutoCloseable {
    private final Path dir;
    private final int httpPort;
    private Process script;
    private int launches;

    KarafInstance(Path assembly, Path dir, Map<String, String> manager, Map<String, String> rpc)
            throws IOException, InterruptedException {
        this.dir = dir;
        Process cp = new ProcessBuilder("cp", "-a", assembly.toString(), dir.toString()).inheritIO().start();
        if (cp.waitFor() != 0) {
            throw new IOException("cannot copy " + assembly);
        }
        Path etc = dir.resolve("etc");
        Files.writeString(etc.resolve("users.properties"), LeanInstance.ADMIN + " = " + LeanInstance.ADMIN_PASSWORD
                + ", _g_:admingroup\n" + LeanInstance.VIEWER + " = " + LeanInstance.VIEWER_PASSWORD + ", viewer\n"
                + "_g_\\:admingroup = group, admin, manager, viewer, systembundles, ssh\n");
        Files.writeString(etc.resolve("org.kvmtool.manager.cfg"), cfg(manager));
        Files.writeString(etc.resolve("org.kvmtool.manager.rpc.cfg"), cfg(rpc));
        httpPort = freePort();
        setKey(etc.resolve("org.ops4j.pax.web.cfg"), "org.osgi.service.http.port", Integer.toString(httpPort));
        setKey(etc.resolve("org.apache.karaf.management.cfg"), "rmiRegistryPort", Integer.toString(freePort()));
        setKey(etc.resolve("org.apache.karaf.management.cfg"), "rmiServerPort", Integer.toString(freePort()));
        setKey(etc.resolve("org.apache.karaf.shell.cfg"), "sshPort", Integer.toString(freePort()));
    }

    URI jolokia() {
        return URI.create("http://127.0.0.1:" + httpPort + "/jolokia/");
    }

    Jolokia admin() {
        return new Jolokia(jolokia(), LeanInstance.ADMIN, LeanInstance.ADMIN_PASSWORD);
    }

    void launch() throws IOException {
        launches++;
        script = new ProcessBuilder(dir.resolve("bin/karaf").toString(), "server").redirectErrorStream(true)
                .redirectOutput(dir.resolve("out-" + launches + ".log").toFile()).start();
    }

    /** The JVM under bin/karaf (the script runs java as its child). */
    Optional<ProcessHandle> java() {
        if (script == null) {
            return Optional.empty();
        }
        if (isJava(script.toHandle())) {
            return Optional.of(script.toHandle());
        }
        return script.descendants().filter(KarafInstance::isJava).findFirst();
    }

    private static boolean isJava(ProcessHandle p) {
        return p.info().command().map(c -> c.endsWith("/java")).orElse(false);
    }

    boolean alive() {
        return script != null && script.isAlive();
    }

    void stop(Duration timeout) throws InterruptedException {
        if (script == null) {
            return;
        }
        java().ifPresent(ProcessHandle::destroy);
        if (!script.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            java().ifPresent(ProcessHandle::destroyForcibly);
            script.destroyForcibly().waitFor();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop(Duration.ofSeconds(30));
    }

    static void setKey(Path file, String key, String value) throws IOException {
        List<String> out = new ArrayList<>();
        boolean found = false;
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file)) {
                if (line.matches("\\s*" + java.util.regex.Pattern.quote(key) + "\\s*[=:].*")) {
                    out.add(key + " = " + value);
                    found = true;
                } else {
                    out.add(line);
                }
            }
        }
        if (!found) {
            out.add(key + " = " + value);
        }
        Files.write(file, out);
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String cfg(Map<String, String> keys) {
        StringBuilder b = new StringBuilder();
        keys.forEach((k, v) -> b.append(k).append(" = ").append(v).append('\n'));
        return b.toString();
    }
}
