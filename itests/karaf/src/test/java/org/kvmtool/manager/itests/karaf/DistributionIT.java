package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.StringTokenizer;

import org.apache.karaf.features.FeaturesService;
import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The built distribution boots with every feature and bundle up, both boot stages done, and its web faces
 * (Jolokia, Hawtio) behind Karaf's JAAS realm.
 */
public class DistributionIT extends KarafTestSupport {

    private static final String[] FEATURES = {"kvmtool-manager", "kvmtool-manager-web", "kvmtool-manager-hawtio"};

    @Test
    public void allThreeFeaturesAreInstalled() throws Exception {
        FeaturesService features = awaitService(FeaturesService.class, null, Duration.ofSeconds(30));
        for (String name : FEATURES) {
            assertNotNull("feature " + name + " is known", features.getFeature(name));
            assertTrue("feature " + name + " is installed", features.isInstalled(features.getFeature(name)));
        }
    }

    @Test
    public void hawtioIsBootedInALaterStageThanTheRest() throws Exception {
        ConfigurationAdmin configAdmin = awaitService(ConfigurationAdmin.class, null, Duration.ofSeconds(30));
        Configuration config = configAdmin.getConfiguration("org.apache.karaf.features", null);
        Dictionary<String, Object> properties = config.getProperties();
        assertNotNull("etc/org.apache.karaf.features.cfg is loaded", properties);
        List<Set<String>> stages = bootStages((String) properties.get("featuresBoot"));
        int web = stageOf(stages, "kvmtool-manager-web");
        int manager = stageOf(stages, "kvmtool-manager");
        int hawtio = stageOf(stages, "kvmtool-manager-hawtio");
        assertTrue("kvmtool-manager and -web in a boot stage: " + stages, manager >= 0 && web >= 0);
        assertTrue("hawtio booted after the web feature: " + stages, hawtio > web && hawtio > manager);
    }

    @Test
    public void everyBundleIsActive() {
        List<String> notActive = new ArrayList<>();
        for (Bundle bundle : bundleContext.getBundles()) {
            if (bundle.getHeaders().get(Constants.FRAGMENT_HOST) != null) {
                continue;   // fragments are only ever Resolved
            }
            if (bundle.getState() != Bundle.ACTIVE) {
                notActive.add(bundle.getBundleId() + " " + bundle.getSymbolicName() + " state=" + bundle.getState());
            }
        }
        assertTrue("bundles not active: " + notActive, notActive.isEmpty());
        for (String name : List.of("kvmtool-api", "kvmtool-core", "kvmtool-jmx", "kvmtool-hawtio", "kvmtool-rpc")) {
            assertTrue(name + " is installed", installed(name));
        }
    }

    @Test
    public void jolokiaAnswersAnAuthenticatedRead() throws Exception {
        HttpAnswer admin = jolokiaRead("java.lang:type=Runtime", "VmName", ADMIN_USER, ADMIN_PASSWORD);
        assertEquals(admin.body(), 200, admin.status());
        assertTrue(admin.body(), admin.body().contains("\"status\":200"));
        assertTrue(admin.body(), admin.body().contains("\"value\":\"" + System.getProperty("java.vm.name")));

        HttpAnswer viewer = jolokiaRead("java.lang:type=Runtime", "VmName", VIEWER_USER, VIEWER_PASSWORD);
        assertEquals(viewer.body(), 200, viewer.status());
        assertTrue(viewer.body(), viewer.body().contains("\"status\":200"));
    }

    @Test
    public void jolokiaAnswers401WithoutValidCredentials() throws Exception {
        assertEquals(401, httpGet("/jolokia/version", null, null).status());
        assertEquals(401, jolokiaRead("java.lang:type=Runtime", "VmName", null, null).status());
        assertEquals(401, httpGet("/jolokia/version", ADMIN_USER, "not-the-password").status());
        assertEquals("Karaf's well-known karaf/karaf must not exist",
                401, httpGet("/jolokia/version", "karaf", "karaf").status());
    }

    @Test
    public void hawtioIsServedBehindTheKarafRealm() throws Exception {
        // the console's login page (where /hawtio/ sends a browser without a session)
        HttpAnswer login = awaitHttp("/hawtio/auth/login", null, null, 200, Duration.ofMinutes(2));
        assertTrue("Hawtio's page: " + login.body(), login.body().contains("<title>Hawtio"));
        assertEquals(302, httpGet("/hawtio/", null, null).status());

        assertEquals(200, httpPostJson("/hawtio/auth/login",
                "{\"username\":\"" + ADMIN_USER + "\",\"password\":\"" + ADMIN_PASSWORD + "\"}", null, null).status());
        assertEquals(403, httpPostJson("/hawtio/auth/login",
                "{\"username\":\"" + ADMIN_USER + "\",\"password\":\"wrong\"}", null, null).status());

        // Hawtio's own Jolokia
        HttpAnswer jolokia = httpGet("/hawtio/jolokia/version", ADMIN_USER, ADMIN_PASSWORD);
        assertEquals(jolokia.body(), 200, jolokia.status());
        assertTrue(jolokia.body(), jolokia.body().contains("\"agent\""));
        assertEquals(403, httpGet("/hawtio/jolokia/version", null, null).status());
    }

    @Test
    public void shellCommandsRunThroughTheSessionFactory() throws Exception {
        String output = executeCommand("feature:list -i");
        for (String name : FEATURES) {
            assertTrue(output, output.contains(name));
        }
    }

    @Test
    public void managerConfigurationPointsIntoThisTestRun() throws Exception {
        ConfigurationAdmin configAdmin = awaitService(ConfigurationAdmin.class, null, Duration.ofSeconds(30));
        Dictionary<String, Object> properties = configAdmin.getConfiguration("org.kvmtool.manager", null)
                .getProperties();
        assertNotNull("etc/org.kvmtool.manager.cfg is loaded", properties);
        assertEquals(workDir().resolve("run").toString(), properties.get("run.dir"));
        String standin = System.getProperty(STANDIN_LKVM, "");
        if (!standin.isEmpty()) {
            assertEquals(standin, properties.get("lkvm.binary"));
        }
    }

    private boolean installed(String symbolicName) {
        for (Bundle bundle : bundleContext.getBundles()) {
            if (symbolicName.equals(bundle.getSymbolicName())) {
                return true;
            }
        }
        return false;
    }

    private static int stageOf(List<Set<String>> stages, String feature) {
        for (int i = 0; i < stages.size(); i++) {
            for (String entry : stages.get(i)) {
                if (entry.equals(feature) || entry.startsWith(feature + "/")) {
                    return i;
                }
            }
        }
        return -1;
    }

    /** featuresBoot as Karaf reads it: "( a, b ), c, d" is two stages, {a, b} then {c, d}. */
    static List<Set<String>> bootStages(String featuresBoot) {
        List<Set<String>> stages = new ArrayList<>();
        Set<String> current = new LinkedHashSet<>();
        StringTokenizer tokens = new StringTokenizer(featuresBoot, " \t\r\n,()", true);
        while (tokens.hasMoreTokens()) {
            String token = tokens.nextToken();
            if (token.equals("(") || token.equals(")")) {
                if (!current.isEmpty()) {
                    stages.add(current);
                    current = new LinkedHashSet<>();
                }
            } else if (!token.isBlank() && !token.equals(",")) {
                current.add(token);
            }
        }
        if (!current.isEmpty()) {
            stages.add(current);
        }
        return stages;
    }
}
