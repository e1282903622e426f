package org.kvmtool.manager.hawtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.util.jar.Attributes;
import java.util.jar.JarFile;

import org.junit.jupiter.api.Test;

/**
 * The packaged bundle (run by failsafe, after packaging): a web application bundle whose root, served at
 * /kvmtool, holds the script Hawtio is told to load (Context + "/" + Scripts[0]) and no class file: bnd's -wab
 * puts the classes under WEB-INF/classes, which a WAB never serves.
 */
class HawtioBundleIT {

    @Test
    void theWebContextServesTheScriptAndNoClass() throws IOException {
        try (JarFile bundle = new JarFile(System.getProperty("kvmtool.hawtio.bundle"))) {
            Attributes manifest = bundle.getManifest().getMainAttributes();
            assertEquals("/kvmtool", manifest.getValue("Web-ContextPath"));
            assertEquals("WEB-INF/classes", manifest.getValue("Bundle-ClassPath"));
            assertNotNull(bundle.getEntry("plugin/kvmtool.js"), "the script at the root of the web context");
            assertNotNull(bundle.getEntry("WEB-INF/classes/org/kvmtool/manager/hawtio/HawtioPlugin.class"));
            assertNull(bundle.getEntry("org/kvmtool/manager/hawtio/HawtioPlugin.class"), "no class at the served root");
        }
    }
}
