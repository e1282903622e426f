package org.kvmtool.manager.jmx;

import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * The one place where errors cross the JMX edge. A client gets a java.lang exception (a class every client
 * can load) whose message is "[CODE] one-line message", with no cause and no stack frames of ours; the cause
 * goes to the log. The MBean server wraps it in a RuntimeMBeanException, which Jolokia unwraps (an
 * IllegalArgumentException becomes HTTP status 400, a SecurityException 403, anything else 500).
 */
final class JmxEdge {
    private static final Logger LOG = Logger.getLogger(JmxEdge.class.getName());
    private static final StackTraceElement[] NO_FRAMES = new StackTraceElement[0];

    private JmxEdge() {
    }

    /** Runs {@code body} for {@code action} on {@code target} (an MBean name, for the log) and maps its failure. */
    static <T> T call(String target, String action, Supplier<T> body) {
        try {
            return body.get();
        } catch (KvmtoolException e) {
            log(target, action, e);
            throw toClient(e.code(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, target + ": " + action + " failed unexpectedly", e);
            throw toClient(ErrorCode.INTERNAL_ERROR, action + " failed: internal error (see the manager's log)");
        }
    }

    static void run(String target, String action, Runnable body) {
        call(target, action, () -> {
            body.run();
            return null;
        });
    }

    /** The client's view of an error: pure, so that the mapping is tested as a table. */
    static RuntimeException toClient(ErrorCode code, String message) {
        String text = "[" + code.name() + "] " + oneLine(message);
        RuntimeException e = switch (code) {
            case NO_DOMAIN, INVALID_ARG, XML_ERROR, CONFIG_UNSUPPORTED -> new IllegalArgumentException(text);
            case NO_SUPPORT -> new UnsupportedOperationException(text);
            case ACCESS_DENIED -> new SecurityException(text);
            default -> new IllegalStateException(text);
        };
        e.setStackTrace(NO_FRAMES);
        return e;
    }

    static String oneLine(String message) {
        if (message == null || message.isBlank()) {
            return "failed";
        }
        return message.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }

    private static void log(String target, String action, KvmtoolException e) {
        // A refused request is the user's business; a cause means something broke underneath.
        if (e.getCause() != null) {
            LOG.log(Level.WARNING, target + ": " + action + ": " + e, e.getCause());
        } else if (isSystemFailure(e.code())) {
            LOG.log(Level.WARNING, target + ": " + action + ": " + e);
        } else {
            LOG.log(Level.FINE, target + ": " + action + ": " + e);
        }
    }

    private static boolean isSystemFailure(ErrorCode code) {
        return switch (code) {
            case SYSTEM_ERROR, INTERNAL_ERROR, OPERATION_FAILED, OPERATION_TIMEOUT -> true;
            default -> false;
        };
    }
}
