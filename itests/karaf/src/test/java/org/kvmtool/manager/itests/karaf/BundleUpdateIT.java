package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;
import org.osgi.framework.Bundle;

/**
 * Issue #10, item 3: every way an operator replaces kvmtool-manager's bundles, each with 3 guests running:
 * bundle:update of each bundle, bundle:refresh of them all, feature:uninstall + feature:install of
 * kvmtool-manager, a new build dropped into deploy/. After each: the same pids, still running (never stopped:
 * reason booted), consoles carrying input and output and keeping their history, the Domain MBeans back.
 *
 * <p>One Karaf for the class; the feature case also checks that Karaf's own shell is not refreshed (JNA, which
 * its jline is wired to, stays installed: feature kvmtool-native).
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class BundleUpdateIT extends GuestTestSupport {

    static final List<String> GUESTS = List.of("upd-a", "upd-b", "upd-c");

    /**
     * Updated one by one; the driver goes and comes back with each but jmx, shell, deploy and rpc (its users) and
     * host (which the driver does not use).
     */
    static final List<String> BUNDLES = List.of("kvmtool-core", "kvmtool-console", "kvmtool-launch",
            "kvmtool-cgroups", "kvmtool-security", "kvmtool-network", "kvmtool-xml", "kvmtool-jmx", "kvmtool-shell",
            "kvmtool-deploy", "kvmtool-rpc", "kvmtool-host");

    @Test
    public void a_bundleUpdateOfEachKvmtoolBundle() throws Exception {
        Map<String, Long> pids = startGuests(GUESTS);
        for (String bundle : BUNDLES) {
            long driver = driverServiceId();
            long before = bundle(bundle).getLastModified();
            executeCommand("bundle:update " + bundle);
            await(() -> bundle(bundle).getLastModified() != before && bundle(bundle).getState() == Bundle.ACTIVE,
                    WAIT, bundle + " updated and active again");
            if (DRIVER_USERS.contains(bundle)) {
                assertEquals("the driver stays through an update of " + bundle, driver, driverServiceId());
            } else {
                awaitNewDriver(driver);
            }
            assertGuestsUntouched(pids, "bundle:update " + bundle);
        }
    }

    private static final List<String> DRIVER_USERS = List.of("kvmtool-jmx", "kvmtool-shell", "kvmtool-deploy",
            "kvmtool-rpc", "kvmtool-host");

    @Test
    public void b_bundleRefreshOfEveryKvmtoolBundle() throws Exception {
        Map<String, Long> pids = startGuests(GUESTS);
        long driver = driverServiceId();
        StringBuilder ids = new StringBuilder();
        for (Bundle b : bundleContext.getBundles()) {
            if (b.getSymbolicName() != null && b.getSymbolicName().startsWith("kvmtool-")) {
                ids.append(' ').append(b.getBundleId());
            }
        }
        executeCommand("bundle:refresh" + ids);
        awaitNewDriver(driver);
        assertGuestsUntouched(pids, "bundle:refresh" + ids);
    }

    @Test
    public void c_featureUninstallAndInstall() throws Exception {
        Map<String, Long> pids = startGuests(GUESTS);
        long shell = sessionFactoryId();
        long jna = bundle("com.sun.jna").getBundleId();
        executeCommand("feature:uninstall kvmtool-manager-web kvmtool-manager");
        await(() -> bundleOrNull("kvmtool-core") == null, WAIT, "kvmtool-core uninstalled");
        await(() -> !mbeans().isRegistered(managerName()), WAIT, "the manager's MBean gone");
        for (Map.Entry<String, Long> e : pids.entrySet()) {
            assertTrue(e.getKey() + " runs on without the manager", alive(e.getValue()));
        }
        Bundle jnaAfter = bundleOrNull("com.sun.jna");
        assertNotNull("JNA stays installed (feature kvmtool-native)", jnaAfter);
        assertEquals(jna, jnaAfter.getBundleId());

        executeCommand("feature:install kvmtool-manager kvmtool-manager-web");
        awaitManager();
        assertGuestsUntouched(pids, "feature:uninstall + feature:install kvmtool-manager");
        assertEquals("Karaf's shell was not refreshed (its SessionFactory is the same)", shell, sessionFactoryId());
    }

    /** A new build (same name and version, one entry more) dropped into deploy/: FileInstall updates the bundle. */
    @Test
    public void d_newBuildOfTheConsolesDroppedIntoDeploy() throws Exception {
        Map<String, Long> pids = startGuests(GUESTS);
        Bundle console = bundle("kvmtool-console");
        Path rebuilt = workDir().resolve("kvmtool-console-rebuilt.jar");
        rebuild(console, rebuilt, "META-INF/kvmtool-itest-build.txt", "rebuilt by BundleUpdateIT");
        long driver = driverServiceId();
        Path dropped = karafHome().resolve("deploy/kvmtool-console-rebuilt.jar");
        Files.copy(rebuilt, dropped);
        await(() -> bundle("kvmtool-console").getState() == Bundle.ACTIVE
                && bundle("kvmtool-console").getEntry("META-INF/kvmtool-itest-build.txt") != null,
                WAIT, "FileInstall updated kvmtool-console with the new build, and started it");
        awaitNewDriver(driver);
        assertGuestsUntouched(pids, "a new build of kvmtool-console dropped into deploy/");
        // it stays: removing the jar from deploy/ would make FileInstall uninstall kvmtool-console
    }

    private Bundle bundleOrNull(String symbolicName) {
        for (Bundle b : bundleContext.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }

    private long sessionFactoryId() throws Exception {
        org.osgi.framework.ServiceReference<?>[] refs = bundleContext.getServiceReferences(
                "org.apache.karaf.shell.api.console.SessionFactory", null);
        return refs == null || refs.length == 0 ? -1 : (Long) refs[0].getProperty("service.id");
    }
}
