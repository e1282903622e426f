package org.kvmtool.manager.lean;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.jolokia.json.JSONObject;
import org.jolokia.json.parser.JSONParser;
import org.jolokia.json.parser.ParseException;

/** A small Jolokia client over java.net.http, with Basic authentication (or none). */
public final class Jolokia {
    /** One answer: the HTTP status and, when the body is JSON, Jolokia's status, value and error. */
    public record Answer(int httpStatus, String body, Map<String, Object> json) {
        public int status() {
            return json == null ? httpStatus : ((Number) json.get("status")).intValue();
        }

        public Object value() {
            if (status() != 200) {
                throw new AssertionError("Jolokia answered " + status() + ": " + body);
            }
            return json.get("value");
        }

        public String error() {
            return json == null ? body : String.valueOf(json.get("error"));
        }
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI url;
    private final String authorization;

    Jolokia(URI url, String user, String password) {
        this.url = url;
        this.authorization = user == null ? null
                : "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    Jolokia as(String user, String password) {
        return new Jolokia(url, user, password);
    }

    public Answer post(Map<String, ?> request) throws IOException, InterruptedException {
        JSONObject json = new JSONObject();
        json.putAll(request);
        return send(HttpRequest.newBuilder(url).POST(HttpRequest.BodyPublishers.ofString(json.toJSONString()))
                .header("Content-Type", "application/json"));
    }

    /** A GET of a path below the agent's URL, e.g. {@code read/java.lang:type=Memory/Verbose}. */
    public Answer get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(url.resolve(path)).GET());
    }

    Answer send(HttpRequest.Builder request) throws IOException, InterruptedException {
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.body(), parse(r.body()));
    }

    public Answer read(String mbean, String attribute) throws IOException, InterruptedException {
        return post(Map.of("type", "read", "mbean", mbean, "attribute", attribute));
    }

    public Answer exec(String mbean, String operation, Object... arguments) throws IOException, InterruptedException {
        return post(Map.of("type", "exec", "mbean", mbean, "operation", operation, "arguments", List.of(arguments)));
    }

    Answer write(String mbean, String attribute, Object value) throws IOException, InterruptedException {
        return post(Map.of("type", "write", "mbean", mbean, "attribute", attribute, "value", value));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(String body) {
        try {
            Object o = new JSONParser().parse(body);
            return o instanceof Map ? (Map<String, Object>) o : null;
        } catch (ParseException | IOException | RuntimeException e) {
            return null;
        }
    }
}
