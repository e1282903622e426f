package org.kvmtool.manager.hawtio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;

import org.junit.jupiter.api.Test;

/** What Hawtio's /hawtio/plugin reads of the MBean, and the script it then loads from /kvmtool. */
class HawtioPluginTest {

    private final MBeanServer server = MBeanServerFactory.newMBeanServer();

    @Test
    void registersWhatHawtioReadsAndLeavesOnDeactivate() throws Exception {
        ObjectName name = new ObjectName("hawtio:type=plugin,name=kvmtool");
        HawtioPlugin plugin = new HawtioPlugin(server);
        assertEquals("kvmtool", server.getAttribute(name, "Name"));
        assertEquals("/kvmtool", server.getAttribute(name, "Context"));
        assertEquals("kvmtool", server.getAttribute(name, "Domain"));
        assertArrayEquals(new String[] {"plugin/kvmtool.js"}, (String[]) server.getAttribute(name, "Scripts"));
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

    @Test
    void theAnnouncedScriptRegistersTheAngularModule() throws IOException {
        String script = Files.readString(Path.of("src/main/webapp/plugin/kvmtool.js"), StandardCharsets.UTF_8);
        assertTrue(script.contains("hawtioPluginLoader.addModule('kvmtool')"));
        assertTrue(script.contains("angular.module('kvmtool'"));
    }
}
