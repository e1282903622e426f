package org.kvmtool.manager.itests.karaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue #8's restarts, with the distribution as an operator runs it (bin/start, bin/stop; Pax Exam's container
 * cannot survive its own stop): 10 guests running, Karaf stopped and started -> all 10 adopted with the same
 * pids and consoles; then bundle:refresh of the driver, and feature:uninstall + feature:install of
 * kvmtool-manager (which refreshes Karaf's own shell, so it cannot run inside Pax Exam either), each with the 10
 * guests running. Prints the reattach time for 10 (FIGURE).
 *
 * <p>The operator's faces: Jolokia over HTTP (admin) and bin/client in batch mode.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReattachIT {

    private static final Duration BOOT_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String PASSWORD = "itest-reattach-pw";
    private static final int GUESTS = 10;
    private static final Pattern ADOPTED = Pattern.compile(
            "kvmtool manager \\S+: (\\d+) domains adopted, (\\d+) found ended, in (\\d+) ms");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<String, Long> pids = new LinkedHashMap<>();
    private final Map<String, String> consoles = new LinkedHashMap<>();
    private UnpackedDistribution distribution;
    private Path home;
    private Path work;
    private int httpPort;
    private int sshPort;

    @BeforeAll
    void unpackAndStart() throws Exception {
        distribution = UnpackedDistribution.unpack("reattach-it");
        home = distribution.home;
        work = Files.createTempDirectory("kvmtool-ra");   // short: lkvm's socket paths must fit in 107 bytes

        httpPort = UnpackedDistribution.freePort();
        sshPort = UnpackedDistribution.freePort();
        distribution.setProperty("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", httpPort);
        distribution.setProperty("etc/org.apache.karaf.shell.cfg", "sshPort", sshPort);
        distribution.setProperty("etc/org.apache.karaf.management.cfg", "rmiRegistryPort", UnpackedDistribution.freePort());
        distribution.setProperty("etc/org.apache.karaf.management.cfg", "rmiServerPort", UnpackedDistribution.freePort());
        Files.writeString(home.resolve("etc/users.properties"),
                "\nadmin = " + PASSWORD + ",admin,manager,viewer,systembundles,ssh\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        Files.writeString(home.resolve("etc/org.kvmtool.manager.cfg"), String.join("\n",
                "uri = kvmtool:///session",
                "lkvm.binary = " + System.getProperty("kvmtool.standin.lkvm"),
                "config.dir = " + work.resolve("config"),
                "run.dir = " + work.resolve("run"),
                "log.dir = " + work.resolve("log"),
                "cgroup.parent = " + GuestTestSupport.cgroupParent(work), ""), StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        Files.writeString(home.resolve("etc/org.kvmtool.manager.rpc.cfg"),
                "socket = " + work.resolve("rpc/virtkvmtoold-sock") + "\n");
        start();
    }

    @AfterAll
    void stopAndClean() throws Exception {
        try {
            if (distribution != null && distribution.process() != null && distribution.process().isAlive()) {
                for (String name : pids.keySet()) {
                    jolokia("{\"type\":\"exec\",\"mbean\":\"kvmtool:type=Domain,name=" + name
                            + "\",\"operation\":\"destroy\",\"arguments\":[]}");
                }
                stop();
            }
        } finally {
            if (distribution != null) {
                distribution.kill();
            }
            if (work != null) {
                // by identity (their HOME is in our work directory), never by a pid that may have been reused
                KarafTestSupport.endLeftoverGuests(work);
                GuestTestSupport.removeCgroups(work);
                UnpackedDistribution.deleteTree(work);
            }
        }
    }

    @Test
    @Order(1)
    void tenGuestsRun() throws Exception {
        awaitJolokia();
        for (int i = 0; i < GUESTS; i++) {
            String name = "ra" + i;
            String xml = GuestTestSupport.domainXml(name, System.getProperty("kvmtool.test.guest"), 16);
            assertEquals(name, Json.string(exec("kvmtool:type=Manager", "defineDomain", Json.quote(xml))));
            exec(domain(name), "start");
        }
        for (int i = 0; i < GUESTS; i++) {
            String name = "ra" + i;
            await(() -> consoleLog(name).contains("GUEST READY"), name + " prints its banner");
            pids.put(name, Long.parseLong(read(domain(name), "Pid")));
            consoles.put(name, Json.string(read(domain(name), "ConsolePath")));
            assertTrue(alive(pids.get(name)));
        }
    }

    @Test
    @Order(2)
    void karafStoppedAndStartedAdoptsAllTen() throws Exception {
        stop();
        for (Map.Entry<String, Long> e : pids.entrySet()) {
            assertTrue(alive(e.getValue()), e.getKey() + " runs on while Karaf is down");
        }
        int adoptionsBefore = adoptions().size();
        long t0 = System.nanoTime();
        start();
        await(this::allBack, "all " + GUESTS + " guests adopted after the restart");
        long toAllBack = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertAllUntouched("the restart of Karaf");

        List<int[]> adoptions = adoptions();
        assertTrue(adoptions.size() > adoptionsBefore, "the driver logged its reattach");
        int[] last = adoptions.get(adoptions.size() - 1);
        assertEquals(GUESTS, last[0], "adopted");
        assertEquals(0, last[1], "found ended");
        Figures.print("reattach of " + GUESTS + " running guests at driver activation (Karaf restart): " + last[2]
                + " ms (the driver's log)");
        Figures.print("bin/start to every one of " + GUESTS + " guests answering as adopted over Jolokia: "
                + toAllBack + " ms");
    }

    @Test
    @Order(3)
    void bundleRefreshOfTheDriverAdoptsAllTen() throws Exception {
        int before = adoptions().size();
        String out = client("bundle:refresh kvmtool-core\n");
        // the refresh runs asynchronously: the old driver answers until it is reached
        await(() -> adoptions().size() > before, "the refreshed driver reattached; " + out);
        await(this::allBack, "all " + GUESTS + " guests adopted after bundle:refresh; " + out);
        assertAllUntouched("bundle:refresh kvmtool-core");
        int[] last = adoptions().get(adoptions().size() - 1);
        assertEquals(GUESTS, last[0]);
        Figures.print("reattach of " + GUESTS + " running guests at driver activation (bundle:refresh): " + last[2]
                + " ms (the driver's log)");
    }

    @Test
    @Order(4)
    void featureUninstallAndInstallLeaveTheGuestsAlone() throws Exception {
        // the features service refreshes Karaf's shell (and this ssh session) meanwhile: the state tells, not the exit code
        clientTolerant("feature:uninstall kvmtool-manager-web kvmtool-manager\n");
        await(() -> !client("bundle:list -s\n").contains("kvmtool-core"), "kvmtool-core uninstalled");
        for (Map.Entry<String, Long> e : pids.entrySet()) {
            assertTrue(alive(e.getValue()), e.getKey() + " runs on without the manager");
        }
        int before = adoptions().size();
        clientTolerant("feature:install kvmtool-manager kvmtool-manager-web\n");
        await(() -> adoptions().size() > before, "the reinstalled driver reattached");
        await(this::allBack, "all " + GUESTS + " guests adopted after feature:install");
        assertAllUntouched("feature:uninstall + feature:install kvmtool-manager");
        String list = client("kvmtool:list\n");
        for (String name : pids.keySet()) {
            assertTrue(list.contains(name), list);
        }
    }

    // ---------------------------------------------------------------- checks

    private boolean allBack() throws Exception {
        for (Map.Entry<String, Long> e : pids.entrySet()) {
            HttpResponse<String> r = post("{\"type\":\"read\",\"mbean\":\"" + domain(e.getKey())
                    + "\",\"attribute\":[\"State\",\"Pid\"]}");
            if (r.statusCode() != 200 || !r.body().contains("\"status\":200")
                    || !r.body().contains("\"State\":\"running\"")
                    || !r.body().contains("\"Pid\":" + e.getValue())) {
                return false;
            }
        }
        return true;
    }

    private void assertAllUntouched(String after) throws Exception {
        for (Map.Entry<String, Long> e : pids.entrySet()) {
            String name = e.getKey();
            assertTrue(alive(e.getValue()), name + " alive after " + after);
            assertEquals("running", Json.string(read(domain(name), "State")), name + " after " + after);
            assertEquals("booted", Json.string(read(domain(name), "StateReason")), name + ": never stopped");
            assertEquals(Long.toString(e.getValue()), read(domain(name), "Pid"), name + " pid after " + after);
            assertEquals(consoles.get(name), Json.string(read(domain(name), "ConsolePath")), name + " console");
            String marker = "echo-" + Long.toHexString(System.nanoTime());
            exec(domain(name), "sendConsole", Json.quote(marker));
            await(() -> consoleLog(name).contains(marker), name + " echoes on its console after " + after);
            assertTrue(Files.readString(work.resolve("log").resolve(name + ".log")).contains(marker),
                    name + "'s console log file has the echo");
        }
    }

    /** Each "N domains adopted, M found ended, in T ms" line of karaf.log, in order: {N, M, T}. */
    private List<int[]> adoptions() throws IOException {
        List<int[]> out = new ArrayList<>();
        Path log = home.resolve("data/log/karaf.log");
        if (!Files.exists(log)) {
            return out;
        }
        Matcher m = ADOPTED.matcher(Files.readString(log));
        while (m.find()) {
            out.add(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3))});
        }
        return out;
    }

    private String consoleLog(String name) throws Exception {
        return Json.string(exec(domain(name), "consoleLog", "65536"));
    }

    private static String domain(String name) {
        return "kvmtool:type=Domain,name=" + name;
    }

    private static boolean alive(long pid) {
        return GuestTestSupport.procState(pid).matches("[RSDIT]");
    }

    // ---------------------------------------------------------------- the distribution's process

    private void start() throws Exception {
        distribution.start();
        awaitJolokia();
    }

    private void stop() throws Exception {
        distribution.stop();
    }

    private void awaitJolokia() throws Exception {
        long deadline = System.nanoTime() + BOOT_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = post("{\"type\":\"read\",\"mbean\":\"kvmtool:type=Manager\","
                        + "\"attribute\":\"Uri\"}");
                if (r.statusCode() == 200 && r.body().contains("\"status\":200")) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the manager's MBean did not answer over Jolokia within " + BOOT_TIMEOUT);
    }

    private String client(String commands) throws Exception {
        return distribution.run(Duration.ofMinutes(3), commands, "bin/client", "-a", Integer.toString(sshPort),
                "-h", "127.0.0.1", "-u", "admin", "-p", PASSWORD, "-r", "30", "-d", "1", "-b");
    }

    /** bin/client whose session may be cut by a refresh of Karaf's shell: only what it printed. */
    private String clientTolerant(String commands) throws Exception {
        try {
            return client(commands);
        } catch (AssertionError cut) {
            return cut.getMessage();
        }
    }

    // ---------------------------------------------------------------- Jolokia

    private String read(String mbean, String attribute) throws Exception {
        return Json.value(answer(jolokia("{\"type\":\"read\",\"mbean\":\"" + mbean + "\",\"attribute\":\""
                + attribute + "\"}")));
    }

    private String exec(String mbean, String operation, String... args) throws Exception {
        return Json.value(answer(jolokia("{\"type\":\"exec\",\"mbean\":\"" + mbean + "\",\"operation\":\""
                + operation + "\",\"arguments\":[" + String.join(",", args) + "]}")));
    }

    private static KarafTestSupport.HttpAnswer answer(HttpResponse<String> r) {
        return new KarafTestSupport.HttpAnswer(r.statusCode(), r.body());
    }

    private HttpResponse<String> jolokia(String json) throws Exception {
        return post(json);
    }

    private HttpResponse<String> post(String json) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/jolokia"))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Basic " + Base64.getEncoder()
                        .encodeToString(("admin:" + PASSWORD).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    // ---------------------------------------------------------------- plumbing

    private static void await(Callable<Boolean> condition, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (Boolean.TRUE.equals(condition.call())) {
                    return;
                }
            } catch (Exception | AssertionError e) {
                last = e instanceof Exception ex ? ex : new Exception(e);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("not within " + WAIT + ": " + what + (last == null ? "" : " (last: " + last + ")"));
    }

}
