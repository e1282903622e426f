package org.kvmtool.manager.jmx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.jmx.jolokia.RestrictorComponent;

class JolokiaRestrictorSwitchTest {
    @Test
    void theSwitchNamesTheRestrictorComponent() {
        // SCR names a component after its class unless told otherwise; the switch must not load that class
        assertEquals(RestrictorComponent.class.getName(), JolokiaRestrictorSwitch.RESTRICTOR_COMPONENT);
    }

    @Test
    void enabledOnlyWithEveryJolokiaPackageItUses() {
        assertTrue(JolokiaRestrictorSwitch.jolokiaWired(List.of("javax.management", "org.jolokia.restrictor",
                "org.jolokia.util", "org.osgi.service.cm")));
        assertFalse(JolokiaRestrictorSwitch.jolokiaWired(List.of("javax.management", "org.osgi.service.cm")),
                "the lean runtime: the Jolokia JVM agent exports nothing to bundles");
        assertFalse(JolokiaRestrictorSwitch.jolokiaWired(List.of("org.jolokia.util")));
    }
}
