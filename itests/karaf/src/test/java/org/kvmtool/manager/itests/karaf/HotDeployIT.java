package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;
import org.osgi.framework.Bundle;

/**
 * Hot deployment, issue #10: domain definitions dropped into Karaf's deploy/ folder (defined, redefined,
 * undefined; a bad file logged and ignored), and kvmtool bundles replaced while guests run: bundle:update,
 * bundle:refresh, a new build dropped into deploy/. Each time with 3 guests running: the same pids, still
 * running, consoles still logging (echo works after), MBeans back, no guest stopped. Prints the time from the
 * update of the driver's bundle to a driver answering with every guest reattached (FIGURE).
 *
 * <p>Every other bundle, bundle:refresh of them all, and feature:uninstall + feature:install: {@link BundleUpdateIT}.
 *
 * <p>The bundle cases run in name order (the last one leaves a new build of kvmtool-core in deploy/).
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class HotDeployIT extends GuestTestSupport {

    static final List<String> GUESTS = List.of("hot-a", "hot-b", "hot-c");

    private static Path deployDir() {
        return karafHome().resolve("deploy");
    }

    private static Path karafLog() {
        return karafHome().resolve("data/log/karaf.log");
    }

    /** A file appears in deploy/ at once, whole: written beside it, then moved (what an operator's cp -p would not). */
    private static void drop(String fileName, String content) throws IOException {
        Path tmp = workDir().resolve(fileName + ".tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, deployDir().resolve(fileName), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    // ---------------------------------------------------------------- definitions in deploy/

    @Test
    public void a1_domainFilesAreDefinedRedefinedAndUndefined() throws Exception {
        awaitManager();
        drop("hd1.xml", guestXml("hd1"));
        await(() -> domainNames().contains("hd1"), WAIT, "hd1 defined from deploy/hd1.xml");
        assertEquals("shutoff", state("hd1"));
        assertEquals(Boolean.TRUE, attribute("hd1", "Persistent"));
        assertEquals(32L << 20, attribute("hd1", "MaxMemoryBytes"));

        // changed: redefined (takes effect at the next start)
        Thread.sleep(1100);   // FileInstall compares modification times
        drop("hd1.xml", domainXml("hd1", System.getProperty(TEST_GUEST), 48));
        await(() -> ((Long) attribute("hd1", "MaxMemoryBytes")) == 48L << 20, WAIT, "hd1 redefined with 48 MiB");

        // started, then the file removed: undefined, but it runs on as a transient domain
        invoke("hd1", "start");
        long pid = pid("hd1");
        Files.delete(deployDir().resolve("hd1.xml"));
        await(() -> Boolean.FALSE.equals(attribute("hd1", "Persistent")), WAIT, "hd1 undefined, now transient");
        assertEquals("running", state("hd1"));
        assertEquals(pid, pid("hd1"));
        assertTrue(alive(pid));
        assertEchoes("hd1", "still there");
        invoke("hd1", "destroy");
        await(() -> !domainNames().contains("hd1"), WAIT, "transient hd1 gone once destroyed");

        // removed while inactive: undefined outright
        drop("hd2.xml", guestXml("hd2"));
        await(() -> domainNames().contains("hd2"), WAIT, "hd2 defined");
        Files.delete(deployDir().resolve("hd2.xml"));
        await(() -> !domainNames().contains("hd2"), WAIT, "hd2 undefined with its file gone");
    }

    @Test
    public void a2_aBadFileIsLoggedWithItsErrorAndChangesNothing() throws Exception {
        awaitManager();
        List<String> before = domainNames();
        drop("broken.xml", "<domain type='kvmtool'><name>broken</name><memory unit='MiB'>32");
        drop("unsupported.xml", "<domain type='kvmtool'><name>unsupported</name><memory unit='MiB'>32</memory>"
                + "<os><type>hvm</type><kernel>/k</kernel></os><devices><disk type='file' device='disk'>"
                + "<source file='/d'/><target dev='hda' bus='ide'/></disk></devices></domain>");
        await(() -> logHas("deploy/broken.xml not defined: ") && logHas("deploy/unsupported.xml not defined: "),
                WAIT, "both files reported in karaf.log");
        String log = Files.readString(karafLog());
        assertTrue("the XML error, with its place", log.matches("(?s).*broken\\.xml not defined: [^\\n]*line \\d+.*"));
        assertTrue("the unsupported element named", log.matches("(?s).*unsupported\\.xml not defined: [^\\n]*ide.*"));
        assertEquals(before, domainNames());

        // a good file turned bad: the domain keeps its definition
        drop("hd3.xml", guestXml("hd3"));
        await(() -> domainNames().contains("hd3"), WAIT, "hd3 defined");
        String xml = (String) invoke("hd3", "dumpXml");
        Thread.sleep(1100);
        drop("hd3.xml", guestXml("hd3").replace("</domain>", "<devices><disk/></devices></domain>"));
        await(() -> logHas("deploy/hd3.xml not defined: "), WAIT, "the bad update of hd3.xml logged");
        assertEquals(xml, invoke("hd3", "dumpXml"));
        Files.delete(deployDir().resolve("broken.xml"));
        Files.delete(deployDir().resolve("unsupported.xml"));
        Files.delete(deployDir().resolve("hd3.xml"));
        await(() -> !domainNames().contains("hd3"), WAIT, "hd3 undefined");
    }

    /** Other files in deploy/ are not ours: a features file is left to Karaf's features deployer. */
    @Test
    public void a3_otherXmlIsLeftAlone() throws Exception {
        awaitManager();
        List<String> before = domainNames();
        drop("not-a-domain.xml", "<features name='itest-empty' xmlns='http://karaf.apache.org/xmlns/features/v1.3.0'/>");
        Thread.sleep(3000);
        assertFalse(logHas("not-a-domain.xml not defined"));
        assertEquals(before, domainNames());
        Files.delete(deployDir().resolve("not-a-domain.xml"));
    }

    private static boolean logHas(String text) throws IOException {
        return Files.readString(karafLog()).contains(text);
    }

    // ---------------------------------------------------------------- bundles replaced under running guests

    /** Was open (console input lost, history gone): the infrastructure was disposed with its only user, the driver. */
    @Test
    public void b1_bundleUpdateOfTheDriver() throws Exception {
        replaceUnderRunningGuests("bundle:update kvmtool-core", true);
    }

    @Test
    public void b2_bundleRefreshOfTheDriver() throws Exception {
        replaceUnderRunningGuests("bundle:refresh kvmtool-core", true);
    }

    /** The driver depends on the console service: it goes and comes back with it, reopening every console. */
    @Test
    public void b3_bundleUpdateOfTheConsoles() throws Exception {
        replaceUnderRunningGuests("bundle:update kvmtool-console", true);
    }

    @Test
    public void b4_bundleRefreshOfTheLauncher() throws Exception {
        replaceUnderRunningGuests("bundle:refresh kvmtool-launch", true);
    }

    /** The JMX face alone: the driver stays, the MBeans go and come back. */
    @Test
    public void b5_bundleUpdateOfTheJmxFace() throws Exception {
        replaceUnderRunningGuests("bundle:update kvmtool-jmx", false);
    }

    private void replaceUnderRunningGuests(String command, boolean driverToo) throws Exception {
        Map<String, Long> pids = startThree();
        long driver = driverServiceId();
        executeCommand(command);
        if (driverToo) {
            awaitNewDriver(driver);
        } else {
            assertEquals("the driver stays", driver, driverServiceId());
        }
        assertGuestsUntouched(pids, command);
    }

    /** The driver's bundle updated again and again: how long until it answers with every guest back. */
    @Test
    public void b6_updateOfTheDriverIsBackQuickly() throws Exception {
        Map<String, Long> pids = startThree();
        Bundle core = bundle("kvmtool-core");
        long best = Long.MAX_VALUE;
        long total = 0;
        int rounds = 5;
        for (int i = 0; i < rounds; i++) {
            long driver = driverServiceId();
            long t0 = System.nanoTime();
            core.update();
            // back = a new driver, its MBeans registered again and every guest reported running with its pid
            await(() -> driverServiceId() != driver && allBack(pids), WAIT, "every guest reattached after update " + i);
            long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - t0);
            best = Math.min(best, micros);
            total += micros;
            assertGuestsUntouched(pids, "update " + i + " of kvmtool-core");
        }
        Figures.print(String.format("bundle update of kvmtool-core -> every guest reattached (3 guests): best %.1f ms, "
                + "mean %.1f ms of %d (goal <= 500 ms)", best / 1000.0, total / 1000.0 / rounds, rounds));
    }

    /** A new build of a kvmtool bundle (same name and version) dropped into deploy/: FileInstall updates it. */
    @Test
    public void b7_newBuildDroppedIntoDeploy() throws Exception {
        Map<String, Long> pids = startThree();
        Bundle core = bundle("kvmtool-core");
        Path rebuilt = workDir().resolve("kvmtool-core-rebuilt.jar");
        rebuild(core, rebuilt, "META-INF/kvmtool-itest-build.txt", "rebuilt by HotDeployIT");
        long driver = driverServiceId();
        Files.copy(rebuilt, deployDir().resolve("kvmtool-core-rebuilt.jar"));
        await(() -> bundle("kvmtool-core").getState() == Bundle.ACTIVE
                && bundle("kvmtool-core").getEntry("META-INF/kvmtool-itest-build.txt") != null,
                WAIT, "FileInstall updated kvmtool-core with the new build, and started it");
        awaitNewDriver(driver);
        assertGuestsUntouched(pids, "a new build of kvmtool-core dropped into deploy/");
        // it stays: removing the jar from deploy/ would make FileInstall uninstall kvmtool-core
    }

    // ---------------------------------------------------------------- helpers

    /** The three guests, started for each bundle case. */
    private Map<String, Long> startThree() throws Exception {
        return startGuests(GUESTS);
    }
}
