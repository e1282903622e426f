package org.kvmtool.manager.hawtio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;

import org.junit.jupiter.api.Test;

/** What Hawtio's /hawtio/plugin reads of the MBean, and the scripts it then loads from /kvmtool. */
class HawtioPluginTest {

    private final MBeanServer server = MBeanServerFactory.newMBeanServer();

    @Test
    void registersWhatHawtioReadsAndLeavesOnDeactivate() throws Exception {
        ObjectName name = new ObjectName("hawtio:type=plugin,name=kvmtool");
        HawtioPlugin plugin = new HawtioPlugin(server);
        assertEquals("kvmtool", server.getAttribute(name, "Name"));
        assertEquals("/kvmtool", server.getAttribute(name, "Context"));
        assertEquals("kvmtool", server.getAttribute(name, "Domain"));
        assertArrayEquals(plugin.getScripts(), (String[]) server.getAttribute(name, "Scripts"));
        plugin.close();
        assertFalse(server.isRegistered(name));
        plugin.close();   // twice: already gone is fine
    }

    @Test
    void replacesARegistrationLeftBehind() throws Exception {
        HawtioPlugin stale = new HawtioPlugin(server);
        HawtioPlugin fresh = new HawtioPlugin(server);
        assertTrue(server.isRegistered(new ObjectName(HawtioPlugin.OBJECT_NAME)));
        fresh.close();
        stale.close();
    }

    /**
     * Hawtio loads exactly the announced scripts: each of them registers an AngularJS module, every module one
     * depends on is registered by an announced script (a file left out of getScripts() would break the tab at
     * bootstrap), and the module `kvmtool` is handed to Hawtio's loader.
     */
    @Test
    void theAnnouncedScriptsRegisterEveryModuleTheTabNeeds() throws Exception {
        Path webapp = Path.of("src/main/webapp");
        Set<String> files;
        try (Stream<Path> list = Files.list(webapp.resolve("plugin"))) {
            files = list.map(p -> webapp.relativize(p).toString()).filter(f -> f.endsWith(".js")).collect(Collectors.toSet());
        }
        HawtioPlugin plugin = new HawtioPlugin(server);
        List<String> scripts = List.of(plugin.getScripts());
        plugin.close();
        assertEquals(files, Set.copyOf(scripts), "every script of plugin/ is announced, and only those");

        Map<String, List<String>> modules = new HashMap<>();
        String all = "";
        for (String script : scripts) {
            String text = Files.readString(webapp.resolve(script), StandardCharsets.UTF_8);
            all += text;
            Matcher m = MODULE.matcher(text);
            assertTrue(m.find(), script + " registers an AngularJS module");
            modules.put(m.group(1), m.group(2).isBlank() ? List.of()
                    : List.of(m.group(2).replace("'", "").split("\\s*,\\s*")));
        }
        assertTrue(modules.containsKey("kvmtool"), "the module kvmtool: " + modules.keySet());
        modules.forEach((module, needs) -> needs.forEach(n ->
                assertTrue(modules.containsKey(n), module + " needs " + n + ", which no announced script registers")));
        assertTrue(all.contains("hawtioPluginLoader.addModule('kvmtool')"));
        for (String served : List.of("dashboard.html", "kvmtool.css")) {
            assertTrue(all.contains("'" + served + "'"), "a script loads " + served);
            assertTrue(Files.isRegularFile(webapp.resolve("plugin").resolve(served)), served + " is served beside them");
        }
    }

    private static final Pattern MODULE = Pattern.compile("angular\\.module\\('([\\w-]+)', \\[([^\\]]*)\\]\\)");
}
