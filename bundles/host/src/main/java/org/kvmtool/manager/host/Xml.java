package org.kvmtool.manager.host;

import java.util.ArrayDeque;
import java.util.Deque;

/** A tiny indenting XML writer, two spaces per level and single-quoted attributes, as libvirt formats its XML. */
final class Xml {
    private final StringBuilder out = new StringBuilder();
    private final Deque<String> open = new ArrayDeque<>();

    /** Opens an element; {@code attributes} are name, value pairs (a null value leaves the attribute out). */
    Xml open(String name, Object... attributes) {
        indent().append('<').append(name);
        attributes(attributes);
        out.append(">\n");
        open.push(name);
        return this;
    }

    Xml empty(String name, Object... attributes) {
        indent().append('<').append(name);
        attributes(attributes);
        out.append("/>\n");
        return this;
    }

    Xml text(String name, Object text, Object... attributes) {
        indent().append('<').append(name);
        attributes(attributes);
        out.append('>').append(escape(String.valueOf(text))).append("</").append(name).append(">\n");
        return this;
    }

    Xml close() {
        String name = open.pop();
        indent().append("</").append(name).append(">\n");
        return this;
    }

    @Override
    public String toString() {
        return out.toString();
    }

    private void attributes(Object[] attributes) {
        for (int i = 0; i + 1 < attributes.length; i += 2) {
            if (attributes[i + 1] != null) {
                out.append(' ').append(attributes[i]).append("='").append(escape(String.valueOf(attributes[i + 1])))
                        .append('\'');
            }
        }
    }

    private StringBuilder indent() {
        return out.append("  ".repeat(open.size()));
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '\'' -> b.append("&apos;");
                case '"' -> b.append("&quot;");
                default -> {
                    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                        continue; // not allowed in XML 1.0: a control character in a DMI field is dropped
                    }
                    b.append(c);
                }
            }
        }
        return b.toString();
    }
}
