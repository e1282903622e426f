package org.kvmtool.manager.lean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Constants;

class LauncherUnitsTest {
    @TempDir
    Path dir;

    @Test
    void arguments() {
        Layout l = Main.parse(new String[] {"--home", "/opt/k", "--base", "/var/lib/k"});
        assertEquals(Path.of("/opt/k"), l.home());
        assertEquals(Path.of("/var/lib/k/etc"), l.etc());
        assertEquals(Path.of("/opt/k/bundle"), l.bundles());
        assertEquals(Path.of("/opt/k"), Main.parse(new String[] {"--home", "/opt/k"}).base(), "base defaults to home");
        assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {}));
        assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--home"}));
        assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--home", "/a", "-x"}));
    }

    @Test
    void frameworkProperties() {
        Map<String, String> p = FrameworkProperties.defaults(new Layout(Path.of("/opt/k"), Path.of("/var/lib/k")));
        assertEquals("/var/lib/k/data/cache", p.get(Constants.FRAMEWORK_STORAGE));
        assertEquals(Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT, p.get(Constants.FRAMEWORK_STORAGE_CLEAN));
        assertEquals("/var/lib/k/etc", p.get("felix.fileinstall.dir"));
        assertEquals("false", p.get("felix.fileinstall.enableConfigSave"), "never rewrite the operator's files");
        assertEquals("/var/lib/k", p.get(FrameworkProperties.BASE));
        assertEquals("/opt/k", p.get(FrameworkProperties.HOME));
    }

    @Test
    void etcFrameworkPropertiesOverrideAndAdd() throws Exception {
        Layout layout = new Layout(dir, dir);
        assertEquals(FrameworkProperties.defaults(layout), FrameworkProperties.of(layout, FrameworkProperties.overrides(layout.etc())),
                "no file, no change");
        Files.createDirectories(layout.etc());
        Files.writeString(layout.etc().resolve("framework.properties"), "felix.fileinstall.poll = 5000\nds.loglevel=debug\nmy.key = x\n");
        Map<String, String> p = FrameworkProperties.of(layout, FrameworkProperties.overrides(layout.etc()));
        assertEquals("5000", p.get("felix.fileinstall.poll"));
        assertEquals("debug", p.get("ds.loglevel"));
        assertEquals("x", p.get("my.key"));
        assertEquals(layout.frameworkStorage().toString(), p.get(Constants.FRAMEWORK_STORAGE));
    }

    @Test
    void bundlesInNameOrderByReference() throws Exception {
        Files.createFile(dir.resolve("b.jar"));
        Files.createFile(dir.resolve("a.jar"));
        Files.createFile(dir.resolve("README"));
        List<Path> jars = BundleJars.list(dir);
        assertEquals(List.of(dir.resolve("a.jar"), dir.resolve("b.jar")), jars);
        assertEquals("reference:file://" + dir.resolve("a.jar"), BundleJars.location(jars.get(0)));
    }

    @Test
    void configArrivalComparesFilesByPath() throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Path a = Files.createFile(etc.resolve("org.kvmtool.manager.cfg"));
        Path b = Files.createFile(etc.resolve("org.apache.felix.fileinstall-deploy.cfg"));
        Files.createFile(etc.resolve("jaas.conf"));
        Set<Path> expected = ConfigArrival.expected(etc);
        assertEquals(Set.of(a, b), expected);
        assertEquals(Set.of(b), ConfigArrival.missing(expected, Set.of(a.toUri().toString())));
        assertEquals(Set.of(), ConfigArrival.missing(expected, Set.of(a.toUri().toString(), b.toString())));
        assertEquals(Set.of(), ConfigArrival.expected(dir.resolve("none")));
    }
}
