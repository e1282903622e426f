package org.kvmtool.manager.hawtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The packaged bundle (run by failsafe, after packaging): a web application bundle whose root, served at
 * /kvmtool, holds the scripts Hawtio is told to load (Context + "/" + Scripts[i]), the template and the style
 * they fetch, and no class file: bnd's -wab puts the classes under WEB-INF/classes, which a WAB never serves.
 */
class HawtioBundleIT {

    @Test
    void theWebContextServesThePluginFilesAndNoClass() throws IOException {
        try (JarFile bundle = new JarFile(System.getProperty("kvmtool.hawtio.bundle"))) {
            Attributes manifest = bundle.getManifest().getMainAttributes();
            assertEquals("/kvmtool", manifest.getValue("Web-ContextPath"));
            assertEquals("WEB-INF/classes", manifest.getValue("Bundle-ClassPath"));
            // the failsafe class path is the bundle, whose classes a WAB keeps out of reach: list the sources
            List<String> files;
            try (Stream<Path> plugin = Files.list(Path.of("src/main/webapp/plugin"))) {
                files = plugin.map(p -> "plugin/" + p.getFileName()).sorted().toList();
            }
            assertTrue(files.containsAll(List.of("plugin/kvmtool.module.js", "plugin/dashboard.html", "plugin/kvmtool.css")), files.toString());
            for (String file : files) {
                assertNotNull(bundle.getEntry(file), file + " at the root of the web context");
            }
            assertNotNull(bundle.getEntry("WEB-INF/classes/org/kvmtool/manager/hawtio/HawtioPlugin.class"));
            assertNull(bundle.getEntry("org/kvmtool/manager/hawtio/HawtioPlugin.class"), "no class at the served root");
        }
    }
}
