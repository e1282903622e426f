package org.kvmtool.manager.hawtio.console;

import java.nio.charset.StandardCharsets;

import org.kvmtool.manager.api.KvmtoolException;

/**
 * Why the server ends a console WebSocket: codes of the range RFC 6455 leaves to applications (4000-4999), read
 * by the tab (kvmtool.figures.js, closeText) to tell its user, with a reason of at most 123 bytes (the limit of
 * a close frame).
 */
final class CloseCodes {
    /** The console ended: the guest stopped, or its console was closed. */
    static final int ENDED = 4000;
    /** Another session took the console over (with force, as virsh console --force): this one is detached. */
    static final int TAKEN_OVER = 4001;
    /** Another session holds the console: attach again with force=1 to take it over. */
    static final int IN_USE = 4002;
    /** The console cannot be attached (the domain is not running, is unknown, ...): the reason says why. */
    static final int REFUSED = 4003;
    /** The browser did not read the output fast enough and was let go; the console log has all of it. */
    static final int TOO_SLOW = 4004;

    /** The console service's words for a console another session holds (bundles/console, Console.inUse). */
    private static final String IN_USE_TEXT = "is in use by another session";
    private static final int MAX_REASON_BYTES = 123;

    private CloseCodes() {
    }

    static int forRefusal(KvmtoolException e) {
        String message = e.getMessage();
        return message != null && message.endsWith(IN_USE_TEXT) ? IN_USE : REFUSED;
    }

    /** {@code text} cut to what a close frame can carry, on a character boundary. */
    static String reason(String text) {
        String t = text == null ? "" : text;
        if (t.getBytes(StandardCharsets.UTF_8).length <= MAX_REASON_BYTES) {
            return t;
        }
        int end = t.length();
        while (end > 0 && (t.substring(0, end) + "...").getBytes(StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
            end--;
        }
        if (end > 0 && Character.isHighSurrogate(t.charAt(end - 1))) {
            end--;
        }
        return t.substring(0, end) + "...";
    }
}
