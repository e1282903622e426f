package org.kvmtool.manager.lean;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

import org.osgi.framework.Constants;

/**
 * The embedded framework's launch properties: the defaults below, then etc/framework.properties of the
 * instance when there is one (an operator's additions and overrides, as Karaf's etc/custom.properties).
 */
final class FrameworkProperties {
    /** Framework property naming the instance directory; etc/*.cfg files may use ${kvmtool.base}. */
    static final String BASE = "kvmtool.base";
    /** Framework property naming the installation directory; etc/*.cfg files may use ${kvmtool.home}. */
    static final String HOME = "kvmtool.home";

    private FrameworkProperties() {
    }

    static final String OVERRIDES = "framework.properties";

    static Map<String, String> of(Layout layout, Properties overrides) {
        Map<String, String> p = defaults(layout);
        for (String key : overrides.stringPropertyNames()) {
            p.put(key, overrides.getProperty(key));
        }
        return p;
    }

    static Properties overrides(Path etc) throws IOException {
        Properties p = new Properties();
        Path file = etc.resolve(OVERRIDES);
        if (Files.exists(file)) {
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
                p.load(r);
            }
        }
        return p;
    }

    static Map<String, String> defaults(Layout layout) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put(Constants.FRAMEWORK_STORAGE, layout.frameworkStorage().toString());
        // A clean cache at every launch: nothing stale survives an upgrade of bundle/. Domains and guests are
        // not in it (they live in the driver's config and run dirs), and bundles are installed by reference,
        // so a clean start costs no copying.
        p.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        p.put(HOME, layout.home().toString());
        p.put(BASE, layout.base().toString());

        // FileInstall reads etc/*.cfg into Config Admin, as Karaf does; the deploy/ folder is a second
        // FileInstall watcher configured by etc/org.apache.felix.fileinstall-deploy.cfg.
        p.put("felix.fileinstall.dir", layout.etc().toString());
        p.put("felix.fileinstall.filter", ".*\\.cfg");
        p.put("felix.fileinstall.poll", "1000");
        p.put("felix.fileinstall.noInitialDelay", "true");
        // Configurations changed at run time are not written back into the operator's files.
        p.put("felix.fileinstall.enableConfigSave", "false");
        p.put("felix.fileinstall.log.level", "2");

        // Felix SCR and the framework log through stdout when no LogService is there: warnings and errors only.
        p.put("ds.loglevel", "warn");
        p.put("felix.log.level", "2");
        return p;
    }
}
