package org.kvmtool.manager.hawtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The tab's pure functions (the CPU % rate, the charts' scales and points, the row buttons from AllowedOperations
 * and Karaf's permissions, the table's texts) are plugin/kvmtool.figures.js; their tests, src/test/js, run under
 * node's own test runner. Skipped, saying so, where node is missing.
 */
class PluginFiguresTest {

    @Test
    void theScriptsFiguresPassTheirNodeTests() throws Exception {
        Process node;
        try {
            node = new ProcessBuilder("node", "--test", "src/test/js/").redirectErrorStream(true).start();
        } catch (IOException notFound) {
            Assumptions.abort("node is not on the PATH: the plugin script's figures are not tested (" + notFound.getMessage() + ")");
            return;
        }
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(node.waitFor(2, TimeUnit.MINUTES), "node --test did not end:\n" + out);
        assertEquals(0, node.exitValue(), out);
        Matcher passed = Pattern.compile("(?m)^# pass (\\d+)$").matcher(out);
        assertTrue(passed.find() && Integer.parseInt(passed.group(1)) > 0, "no test ran:\n" + out);
    }
}
