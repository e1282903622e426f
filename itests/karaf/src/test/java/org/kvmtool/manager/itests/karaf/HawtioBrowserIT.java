package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.replaceConfigurationFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.AssumptionViolatedException;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.Description;
import org.junit.runner.RunWith;
import org.junit.runner.notification.Failure;
import org.junit.runner.notification.RunNotifier;
import org.junit.runners.model.InitializationError;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.options.SystemPropertyOption;

/**
 * The kvmtool tab of Hawtio in a real headless Chromium (Debian's, driven by playwright-core from npm), against
 * this distribution with the lkvm stand-in: an admin operates two domains, a viewer sees no action and a forged
 * exec of his is refused. The browser side is src/test/browser/hawtio-dashboard.mjs; this class prepares the
 * domains, installs the script's npm dependencies (npm ci, from the committed lock file) and runs it once per
 * scenario, in one Karaf boot.
 *
 * <p>Skipped, saying why, when Chromium (KVMTOOL_CHROMIUM, default /usr/bin/chromium), node or npm is missing
 * ({@link BrowserRunner}).
 * Screenshots go to {@code target/screenshots}, or to the folder named by {@code -Dkvmtool.screenshots.dir}
 * (docs/screenshots.sh writes the README's); {@code -Dkvmtool.chart.seconds} sets how long the charts fill
 * before the screenshot (default 10).
 */
@RunWith(HawtioBrowserIT.BrowserRunner.class)
public class HawtioBrowserIT extends KarafTestSupport {

    static final String MODULE_DIR = "kvmtool.itest.module.dir";
    static final String SCREENSHOTS = "kvmtool.screenshots.dir";
    static final String CHART_SECONDS = "kvmtool.chart.seconds";
    static final String CHROMIUM = "kvmtool.itest.chromium";
    static final List<String> DOMAINS = List.of("alpha", "beta");
    private static final Duration SCENARIO_TIMEOUT = Duration.ofMinutes(6);

    /**
     * Pax Exam's runner, preceded in the test JVM by what the browser needs: without Chromium, node or npm the
     * tests are skipped (reported as such, saying why) and Karaf is not even booted; otherwise the script's
     * dependencies are installed with npm ci before Karaf boots. (An assumption inside Karaf would be reported
     * as a pass by Pax Exam.)
     */
    public static class BrowserRunner extends PaxExam {
        private final Description description;

        public BrowserRunner(Class<?> testClass) throws InitializationError {
            super(testClass);
            this.description = getDescription();
        }

        @Override
        public void run(RunNotifier notifier) {
            String missing;
            try {
                missing = missingTool();
                if (missing == null) {
                    prepareBrowserDir();
                }
            } catch (IOException | InterruptedException | AssertionError e) {
                for (Description test : description.getChildren()) {
                    notifier.fireTestStarted(test);
                    notifier.fireTestFailure(new Failure(test, e));
                    notifier.fireTestFinished(test);
                }
                return;
            }
            if (missing != null) {
                System.err.println(getClass().getSimpleName() + ": " + missing);
                for (Description test : description.getChildren()) {
                    notifier.fireTestStarted(test);
                    notifier.fireTestAssumptionFailed(new Failure(test, new AssumptionViolatedException(missing)));
                    notifier.fireTestFinished(test);
                }
                return;
            }
            super.run(notifier);
        }
    }

    /** Why the browser tests cannot run here, or null when they can. */
    static String missingTool() throws InterruptedException {
        Path chromium = chromium();
        if (!Files.isExecutable(chromium)) {
            return "no Chromium at " + chromium + " (apt-get install chromium, or set KVMTOOL_CHROMIUM):"
                    + " Hawtio browser tests skipped";
        }
        if (!runs("node", "--version") || !runs("npm", "--version")) {
            return "node or npm is not on the PATH: Hawtio browser tests skipped";
        }
        return null;
    }

    @Override
    @Configuration
    public Option[] config() throws IOException {
        List<Option> options = new ArrayList<>(Arrays.asList(super.config()));
        String httpPort = options.stream()
                .filter(o -> o instanceof SystemPropertyOption s && HTTP_PORT.equals(s.getKey()))
                .map(o -> ((SystemPropertyOption) o).getValue())
                .findFirst().orElseThrow();
        Path module = moduleDir();
        options.add(systemProperty(MODULE_DIR).value(module.toString()));
        options.add(systemProperty(SCREENSHOTS).value(screenshotsDir().toString()));
        options.add(systemProperty(CHART_SECONDS).value(System.getProperty(CHART_SECONDS, "10")));
        options.add(systemProperty(CHROMIUM).value(chromium().toString()));
        // Hawtio's Jolokia admits the console's own origin only (config/etc/hawtio-jolokia-access.xml names
        // port 8181): the same policy, for this run's port.
        Path policy = module.resolve("../../config/etc/hawtio-jolokia-access.xml").normalize();
        if (Files.isRegularFile(policy)) {
            Path adapted = module.resolve("target/hawtio-jolokia-access.xml");
            Files.createDirectories(adapted.getParent());
            Files.writeString(adapted, Files.readString(policy).replace(":8181", ":" + httpPort));
            options.add(replaceConfigurationFile("etc/hawtio-jolokia-access.xml", adapted.toFile()));
        }
        return options.toArray(new Option[0]);
    }

    /** Session mode: the test runs as root, and system mode would want the unprivileged lkvm.user. */
    @Override
    protected Map<String, String> managerConfig(Path work) {
        Map<String, String> config = super.managerConfig(work);
        config.put("uri", "kvmtool:///session");
        return config;
    }

    private static Path moduleDir() {
        String passed = System.getProperty(MODULE_DIR);   // inside Karaf
        return Path.of(passed != null ? passed : System.getProperty("basedir", System.getProperty("user.dir")))
                .toAbsolutePath().normalize();
    }

    private static Path screenshotsDir() {
        String dir = System.getProperty(SCREENSHOTS, "");
        return dir.isEmpty() ? moduleDir().resolve("target/screenshots") : Path.of(dir).toAbsolutePath();
    }

    private static Path chromium() {
        String passed = System.getProperty(CHROMIUM);
        if (passed != null) {
            return Path.of(passed);
        }
        String env = System.getenv("KVMTOOL_CHROMIUM");
        return Path.of(env == null || env.isEmpty() ? "/usr/bin/chromium" : env);
    }

    private static Path browserDir() {
        return moduleDir().resolve("target/browser");
    }

    /** target/browser: the script, package.json and the lock file, and node_modules from `npm ci`. */
    static void prepareBrowserDir() throws IOException, InterruptedException {
        Path source = moduleDir().resolve("src/test/browser");
        Path target = browserDir();
        Files.createDirectories(target);
        for (String file : List.of("package.json", "package-lock.json", "hawtio-dashboard.mjs")) {
            Files.copy(source.resolve(file), target.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Path installed = target.resolve("node_modules/.package-lock.json");
        if (Files.isRegularFile(installed) && Files.getLastModifiedTime(installed).toMillis()
                >= Files.getLastModifiedTime(source.resolve("package-lock.json")).toMillis()) {
            return;   // npm ci already ran for this lock file
        }
        Path log = target.resolve("npm-ci.log");
        Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund")
                .directory(target.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!npm.waitFor(5, TimeUnit.MINUTES)) {
            npm.destroyForcibly();
            throw new AssertionError("npm ci did not end within 5 minutes; see " + log);
        }
        assertEquals("npm ci failed: " + Files.readString(log), 0, npm.exitValue());
    }

    private static boolean runs(String... command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    // ------------------------------------------------------------ inside Karaf

    /** Hawtio serves our plugin, and alpha and beta exist and are shut off. */
    @Before
    public void twoDomainsShutOff() throws Exception {
        awaitHttpBody("/hawtio/plugin", "\"kvmtool\"");
        awaitHttpBody("/kvmtool/plugin/kvmtool.module.js", "hawtioPluginLoader");
        awaitHttpBody("/kvmtool/plugin/dashboard.html", "kvmtool-domains");
        String guest = System.getProperty(TEST_GUEST, "");
        assertTrue("the test guest is not built (" + TEST_GUEST + ")", !guest.isEmpty() && Files.isRegularFile(Path.of(guest)));
        for (String name : DOMAINS) {
            String mbean = "kvmtool:type=Domain,name=" + name;
            HttpAnswer state = jolokiaRead(mbean, "State", ADMIN_USER, ADMIN_PASSWORD);
            if (!state.body().contains("\"status\":200")) {
                HttpAnswer defined = jolokiaExec("kvmtool:type=Manager", "defineDomain(java.lang.String)",
                        ADMIN_USER, ADMIN_PASSWORD, "\"" + jsonEscape(domainXml(name, guest)) + "\"");
                assertTrue("define " + name + ": " + defined.body(), defined.body().contains("\"status\":200"));
            } else if (!value(state.body()).equals("shutoff")) {
                HttpAnswer destroyed = jolokiaExec(mbean, "destroy()", ADMIN_USER, ADMIN_PASSWORD);
                assertTrue("destroy " + name + ": " + destroyed.body(), destroyed.body().contains("\"status\":200"));
            }
            awaitState(mbean, "shutoff");
        }
    }

    @Test
    public void adminOperatesDomainsInHawtio() throws Exception {
        runScenario("admin", ADMIN_USER, ADMIN_PASSWORD);
    }

    @Test
    public void viewerSeesNoActionAndForgedExecIsRefused() throws Exception {
        runScenario("viewer", VIEWER_USER, VIEWER_PASSWORD);
    }

    private void runScenario(String scenario, String user, String password) throws Exception {
        Path dir = browserDir();
        assertTrue("npm ci has not run in " + dir, Files.isDirectory(dir.resolve("node_modules/playwright-core")));
        Path log = dir.resolve(scenario + ".log");
        ProcessBuilder builder = new ProcessBuilder("node", "hawtio-dashboard.mjs", scenario)
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.put("KVMTOOL_BASE_URL", baseUrl());
        env.put("KVMTOOL_USER", user);
        env.put("KVMTOOL_PASSWORD", password);
        env.put("KVMTOOL_SCREENSHOTS", screenshotsDir().toString());
        env.put("KVMTOOL_CHART_SECONDS", System.getProperty(CHART_SECONDS, "10"));
        env.put("KVMTOOL_CHROMIUM", chromium().toString());
        long start = System.nanoTime();
        Process node = builder.start();
        boolean ended = node.waitFor(SCENARIO_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (!ended) {
            node.descendants().forEach(ProcessHandle::destroyForcibly);   // Chromium and its helpers
            node.destroyForcibly();
            node.waitFor(10, TimeUnit.SECONDS);
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println("---- browser scenario " + scenario + " (" + (System.nanoTime() - start) / 1_000_000 + " ms)\n" + output);
        assertTrue("browser scenario " + scenario + " did not end within " + SCENARIO_TIMEOUT + ":\n" + output, ended);
        assertEquals("browser scenario " + scenario + " failed:\n" + output, 0, node.exitValue());
    }

    private static String domainXml(String name, String guest) {
        return "<domain type='kvmtool'>\n"
                + "  <name>" + name + "</name>\n"
                + "  <memory unit='MiB'>64</memory>\n"
                + "  <vcpu>1</vcpu>\n"
                + "  <os><type>hvm</type><kernel>" + guest + "</kernel></os>\n"
                + "  <devices><console type='pty'><target type='serial'/></console></devices>\n"
                + "</domain>\n";
    }

    private static final Pattern VALUE = Pattern.compile("\"value\":\"([^\"]*)\"");

    private static String value(String jolokiaAnswer) {
        Matcher m = VALUE.matcher(jolokiaAnswer);
        return m.find() ? m.group(1) : "";
    }

    private void awaitState(String mbean, String expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            last = jolokiaRead(mbean, "State", ADMIN_USER, ADMIN_PASSWORD).body();
            if (value(last).equals(expected)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(mbean + " not " + expected + " within 60 s: " + last);
    }

    /** Polls GET path (no login) until its body holds the text: Hawtio comes some seconds after the boot. */
    private void awaitHttpBody(String path, String text) throws Exception {
        long deadline = System.nanoTime() + BOOT_TIMEOUT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                HttpAnswer answer = httpGet(path, null, null);
                if (answer.status() == 200 && answer.body().contains(text)) {
                    return;
                }
                last = answer.status() + " " + answer.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(500);
        }
        throw new AssertionError("GET " + path + " never held " + text + "; last: " + last);
    }
}
