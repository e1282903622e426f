package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.kvmtool.manager.itests.karaf.KarafTestSupport.HttpAnswer;

/** Jolokia's answers are JSON; the tests need the "value" of one request and strings in it. */
final class Json {
    private Json() {
    }

    /** The raw JSON of the "value" of a successful Jolokia answer; fails with the answer otherwise. */
    static String value(HttpAnswer answer) {
        assertEquals(answer.body(), 200, answer.status());
        assertTrue(answer.body(), answer.body().contains("\"status\":200"));
        int at = answer.body().indexOf("\"value\":");
        assertTrue(answer.body(), at >= 0);
        return element(answer.body(), at + 8);
    }

    /** One JSON element starting at {@code from}: a string, number, literal, array or object. */
    static String element(String json, int from) {
        int depth = 0;
        boolean inString = false;
        for (int i = from; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                    if (depth == 0) {
                        return json.substring(from, i + 1);
                    }
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '[' || c == '{') {
                depth++;
            } else if (c == ']' || c == '}') {
                if (depth == 0) {
                    return json.substring(from, i).trim();
                }
                depth--;
                if (depth == 0) {
                    return json.substring(from, i + 1);
                }
            } else if (c == ',' && depth == 0) {
                return json.substring(from, i).trim();
            }
        }
        return json.substring(from).trim();
    }

    static String string(String jsonString) {
        assertTrue(jsonString, jsonString.startsWith("\"") && jsonString.endsWith("\""));
        StringBuilder out = new StringBuilder();
        for (int i = 1; i < jsonString.length() - 1; i++) {
            char c = jsonString.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char e = jsonString.charAt(++i);
            switch (e) {
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    out.append((char) Integer.parseInt(jsonString.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> out.append(e);   // \" \\ \/
            }
        }
        return out.toString();
    }

    static String quote(String s) {
        return "\"" + KarafTestSupport.jsonEscape(s) + "\"";
    }
}
