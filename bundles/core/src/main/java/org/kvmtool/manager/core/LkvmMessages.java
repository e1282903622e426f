package org.kvmtool.manager.core;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * lkvm says why it failed on its stdio, which is the console: "  Fatal: ...", "  Error: ...", or a bare
 * line such as "Your CPU does not support hardware virtualization". That line, verbatim, is what the
 * user must see; this finds it in the console output.
 */
final class LkvmMessages {
    private static final Pattern TAGGED = Pattern.compile("(?m)^\\s*((?:Fatal|Error):.*?)\\s*$");
    private static final Pattern KNOWN = Pattern.compile("(?m)^\\s*(.*(?:does not support|not supported|Permission denied|No such file).*?)\\s*$");

    private LkvmMessages() {
    }

    /** The last Fatal/Error line, else the last line that reads like a failure, else null. */
    static String failureLine(String consoleOutput) {
        String last = lastMatch(TAGGED, consoleOutput);
        return last != null ? last : lastMatch(KNOWN, consoleOutput);
    }

    private static String lastMatch(Pattern p, String text) {
        Matcher m = p.matcher(text.replace("\r", ""));
        String found = null;
        while (m.find()) {
            found = m.group(1);
        }
        return found;
    }
}
