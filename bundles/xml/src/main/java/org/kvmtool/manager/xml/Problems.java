package org.kvmtool.manager.xml;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * The one place that words errors: {@code "<what> at <path>[='value'] (line L:C): <why>"}. XML_ERROR is
 * for what is malformed or invalid, CONFIG_UNSUPPORTED for what libvirt accepts but kvmtool cannot do.
 */
final class Problems {
    private Problems() {
    }

    static KvmtoolException unsupported(Pos where, String why) {
        return new KvmtoolException(ErrorCode.CONFIG_UNSUPPORTED, "unsupported configuration at " + where.describe() + ": " + why);
    }

    /** An attribute or text value that kvmtool cannot honour: the value is quoted after the path. */
    static KvmtoolException unsupportedValue(Pos where, String value, String why) {
        return unsupported(withValue(where, value), why);
    }

    static KvmtoolException xml(String what, Pos where, String why) {
        return new KvmtoolException(ErrorCode.XML_ERROR, what + " at " + where.describe() + ": " + why);
    }

    static KvmtoolException invalid(Pos where, String value, String why) {
        return xml("invalid value", withValue(where, value), why);
    }

    static KvmtoolException missing(Pos where, String why) {
        return xml("missing " + (where.path().contains("/@") ? "attribute" : "element"), where, why);
    }

    /** A document-level error without a position (size, encoding). */
    static KvmtoolException document(String what, String why) {
        return new KvmtoolException(ErrorCode.XML_ERROR, what + ": " + why);
    }

    /** Parser messages may span lines and carry control characters; ours are one line. */
    static String oneLine(String message) {
        return printable(message.replace('\n', ' ').replace('\r', ' ').replace('\t', ' ').strip(), 300);
    }

    private static Pos withValue(Pos where, String value) {
        return new Pos(where.path() + "='" + printable(value) + "'", where.line(), where.column());
    }

    /** Values are echoed into one-line messages: control characters and long values are shown safely. */
    static String printable(String value) {
        return printable(value, 80);
    }

    private static String printable(String value, int max) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < value.length() && b.length() < max; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (b.length() >= max && value.length() > max) {
            b.setLength(max);
            b.append("...");
        }
        return b.toString();
    }
}
