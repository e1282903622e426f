package org.kvmtool.manager.core;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * lkvm says why it failed on its stdio, which is the console: "  Error: Your CPU does not support hardware
 * virtualization" then "  Fatal: Initialisation failed", or a bare line. Those lines, verbatim, are what the
 * user must see; this finds them in the console output of the last run (the ring also holds earlier runs:
 * each run begins with lkvm's "# lkvm run" line).
 */
final class LkvmMessages {
    private static final Pattern TAGGED = Pattern.compile("(?m)^\\s*((?:Fatal|Error):.*?)\\s*$");
    private static final Pattern KNOWN = Pattern.compile("(?m)^\\s*(.*(?:does not support|not supported|Permission denied|No such file).*?)\\s*$");
    private static final String RUN_BANNER = "# lkvm run";

    private LkvmMessages() {
    }

    /** The Error and Fatal lines of the last run joined by "; ", else the last line that reads like a failure, else null. */
    static String failureLine(String consoleOutput) {
        String text = consoleOutput.replace("\r", "");
        int run = text.lastIndexOf(RUN_BANNER);
        if (run >= 0) {
            text = text.substring(run);
        }
        List<String> tagged = new ArrayList<>();
        Matcher m = TAGGED.matcher(text);
        while (m.find()) {
            if (!tagged.contains(m.group(1))) {
                tagged.add(m.group(1));
            }
        }
        if (!tagged.isEmpty()) {
            return String.join("; ", tagged);
        }
        String found = null;
        m = KNOWN.matcher(text);
        while (m.find()) {
            found = m.group(1);
        }
        return found;
    }
}
