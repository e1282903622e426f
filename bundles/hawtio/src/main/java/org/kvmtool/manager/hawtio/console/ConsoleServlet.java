package org.kvmtool.manager.hawtio.console;

import java.io.IOException;
import java.util.Map;
import java.util.function.Supplier;

import javax.servlet.ServletException;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.websocket.DeploymentException;
import javax.websocket.server.ServerEndpointConfig;

import org.eclipse.jetty.websocket.jsr356.server.ServerContainer;
import org.osgi.framework.BundleContext;
import org.osgi.util.tracker.ServiceTracker;

/**
 * GET /kvmtool/console/NAME (WEB-INF/web.xml): the WebSocket handshake of a domain's console. The checks
 * ({@link ConsoleDoor#admit}) answer before any upgrade, so a refusal is a plain HTTP status (401, 403) a client
 * can see; only then is the connection upgraded, through the WebSocket container Pax Web's Jetty puts into this
 * context (Jetty 9.4's javax ServerContainer.upgradeHttpToWebSocket, which Jakarta WebSocket 2.0 standardised:
 * a JSR 356 endpoint with no hook to refuse a handshake with a status of our choosing).
 */
public final class ConsoleServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private transient ServiceTracker<ConsoleDoor, ConsoleDoor> tracker;
    private transient Supplier<ConsoleDoor> doors;

    /** As web.xml makes it: the door is the OSGi service of this bundle's DS component. */
    public ConsoleServlet() {
    }

    ConsoleServlet(Supplier<ConsoleDoor> doors) {
        this.doors = doors;
    }

    @Override
    public void init() throws ServletException {
        if (doors != null) {
            return;
        }
        // the OSGi Web Applications spec puts the WAB's bundle context here
        BundleContext context = (BundleContext) getServletContext().getAttribute("osgi-bundlecontext");
        if (context == null) {
            throw new ServletException("no osgi-bundlecontext in the servlet context: not deployed as a bundle");
        }
        tracker = new ServiceTracker<>(context, ConsoleDoor.class, null);
        tracker.open();
        doors = tracker::getService;
    }

    @Override
    public void destroy() {
        if (tracker != null) {
            tracker.close();
        }
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getPathInfo();
        String domain = path == null ? "" : path.substring(1);
        if (!DomainNames.valid(domain)) {
            resp.sendError(HttpServletResponse.SC_NOT_FOUND, "not a domain name: " + domain);
            return;
        }
        if (!"websocket".equalsIgnoreCase(req.getHeader("Upgrade"))) {
            resp.sendError(HttpServletResponse.SC_BAD_REQUEST, "the console of a domain is a WebSocket");
            return;
        }
        ConsoleDoor door = doors.get();
        Object container = getServletContext().getAttribute(javax.websocket.server.ServerContainer.class.getName());
        if (door == null || !(container instanceof ServerContainer jetty)) {
            resp.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, door == null
                    ? "the console door is not active (no domain driver?)"
                    : "no WebSocket support in this web context (Karaf feature pax-web-jetty-websockets)");
            return;
        }
        ConsoleDoor.Admission admission = door.admit(domain, req.getHeader("Origin"), req.getParameter("ticket"),
                req.getHeader("Authorization"));
        if (admission.status() != 0) {
            if (admission.status() == HttpServletResponse.SC_UNAUTHORIZED) {
                resp.setHeader("WWW-Authenticate", "Basic realm=\"karaf\"");
            }
            resp.sendError(admission.status(), admission.message());
            return;
        }
        boolean force = "1".equals(req.getParameter("force")) || "true".equals(req.getParameter("force"));
        ConsoleSocket socket = door.socket(domain, force, admission.user());
        ServerEndpointConfig config = ServerEndpointConfig.Builder.create(ConsoleSocket.class, "/console/" + domain)
                .configurator(new ServerEndpointConfig.Configurator() {
                    @Override
                    public <T> T getEndpointInstance(Class<T> type) {
                        return type.cast(socket);
                    }
                }).build();
        try {
            jetty.upgradeHttpToWebSocket(req, resp, config, Map.of());
        } catch (DeploymentException e) {
            if (!resp.isCommitted()) {
                resp.sendError(HttpServletResponse.SC_BAD_REQUEST, e.getMessage());
            }
        }
    }
}
