package org.kvmtool.manager.jmx.jolokia;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.PrivilegedExceptionAction;
import java.util.Map;

import javax.security.auth.Subject;

import org.jolokia.backend.BackendManager;
import org.jolokia.config.ConfigKey;
import org.jolokia.config.Configuration;
import org.jolokia.http.HttpRequestHandler;
import org.jolokia.restrictor.Restrictor;
import org.jolokia.util.LogHandler;
import org.json.simple.JSONArray;
import org.json.simple.JSONAware;
import org.json.simple.JSONObject;

/**
 * Jolokia 1.7.1's request pipeline without the HTTP server, driven as its AgentServlet drives it: the access
 * check (remote address, Origin or Referer) first, then the request as the JAAS subject (Subject.doAs), which
 * jolokia-osgi's JaasAuthenticator provides. Works on the platform MBeanServer, as Jolokia does.
 */
final class JolokiaDoor implements AutoCloseable {
    private static final LogHandler QUIET = new LogHandler() {
        @Override
        public void debug(String message) {
        }

        @Override
        public void info(String message) {
        }

        @Override
        public void error(String message, Throwable t) {
        }
    };

    private final BackendManager backend;
    private final HttpRequestHandler handler;

    JolokiaDoor(Restrictor restrictor) {
        Configuration config = new Configuration(ConfigKey.AGENT_ID, "test", ConfigKey.ALLOW_ERROR_DETAILS, "false",
                ConfigKey.INCLUDE_STACKTRACE, "false");
        backend = new BackendManager(config, QUIET, restrictor);
        handler = new HttpRequestHandler(config, backend, QUIET);
    }

    /** GET /jolokia/PATH, e.g. "read/kvmtool:type=Manager/Uri". */
    JSONObject get(Subject subject, String origin, String path) {
        return (JSONObject) handle(subject, origin,
                () -> handler.handleGetRequest("/jolokia/" + path, "/" + path, Map.of()));
    }

    /** POST /jolokia with a JSON body: one request (an object) or a bulk (an array). */
    JSONAware post(Subject subject, String origin, String json) {
        return handle(subject, origin, () -> handler.handlePostRequest("/jolokia",
                new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "UTF-8", Map.of()));
    }

    JSONArray bulk(Subject subject, String json) {
        return (JSONArray) post(subject, null, json);
    }

    private JSONAware handle(Subject subject, String origin, PrivilegedExceptionAction<JSONAware> request) {
        try {
            handler.checkAccess(null, "127.0.0.1", origin);
            return subject == null ? request.run() : Subject.doAs(subject, request);
        } catch (Throwable e) {
            return handler.handleThrowable(e instanceof java.security.PrivilegedActionException p ? p.getCause() : e);
        }
    }

    @Override
    public void close() {
        backend.destroy();
    }

    static long status(JSONAware answer) {
        return ((Number) ((JSONObject) answer).get("status")).longValue();
    }
}
