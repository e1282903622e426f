package org.kvmtool.manager.hawtio.console;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.websocket.CloseReason;
import javax.websocket.Endpoint;
import javax.websocket.EndpointConfig;
import javax.websocket.MessageHandler;
import javax.websocket.Session;

import org.kvmtool.manager.api.ConsoleAttachment;
import org.kvmtool.manager.api.ConsoleListener;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * One browser terminal on one domain's console: an interactive attach session (the driver's attachConsole,
 * the one kvmtool:console and virsh console use) bridged to a WebSocket. Binary frames from the server are the
 * console's bytes, beginning with its last {@code historyBytes}; text frames are notices for the user. Frames
 * from the browser are the keys typed, written to the guest as they come. The socket's end detaches; the end
 * of the console, or another session's forced takeover, closes the socket with a code of {@link CloseCodes}.
 */
final class ConsoleSocket extends Endpoint implements ConsoleListener {
    private static final Logger LOG = Logger.getLogger(ConsoleSocket.class.getName());

    private final DomainDriver driver;
    private final String domain;
    private final boolean force;
    private final String user;
    private final int historyBytes;
    private final long backlogBytes;
    private volatile Session session;
    private volatile Outbox outbox;
    private final AtomicReference<ConsoleAttachment> attachment = new AtomicReference<>();

    ConsoleSocket(DomainDriver driver, String domain, boolean force, String user, int historyBytes, long backlogBytes) {
        this.driver = driver;
        this.domain = domain;
        this.force = force;
        this.user = user;
        this.historyBytes = historyBytes;
        this.backlogBytes = backlogBytes;
    }

    @Override
    public void onOpen(Session s, EndpointConfig config) {
        session = s;
        s.setMaxIdleTimeout(0); // a terminal may sit idle for hours; closing the tab ends it
        outbox = new Outbox((data, done) -> s.getAsyncRemote().sendBinary(data, r -> done.accept(r.getException())),
                backlogBytes, () -> close(CloseCodes.TOO_SLOW, "the browser fell " + backlogBytes
                        + " bytes behind; the console log has the rest"));
        // JSR 356 1.0's registration (Jetty 9.4 has no 1.1 addMessageHandler(Class, ...)): the message type is
        // read from the handler's class, so these are classes, not lambdas
        s.addMessageHandler(new MessageHandler.Whole<ByteBuffer>() {
            @Override
            public void onMessage(ByteBuffer keys) {
                typed(keys);
            }
        });
        s.addMessageHandler(new MessageHandler.Whole<String>() {
            @Override
            public void onMessage(String keys) {
                typed(ByteBuffer.wrap(keys.getBytes(StandardCharsets.UTF_8)));
            }
        });
        try {
            attachment.set(driver.attachConsole(domain, force, historyBytes, this));
            if (!s.isOpen()) {
                detach(); // closed while attaching (the console ended at once, say): nothing may keep the slot
                return;
            }
            LOG.info(() -> user + " attached to the console of '" + domain + "' from a browser" + (force ? " (force)" : ""));
        } catch (KvmtoolException e) {
            close(CloseCodes.forRefusal(e), e.getMessage());
        }
    }

    /** Keys from the browser, to the guest at once. */
    private void typed(ByteBuffer keys) {
        ConsoleAttachment a = attachment.get();
        if (a == null || !keys.hasRemaining()) {
            return;
        }
        byte[] data = new byte[keys.remaining()];
        keys.get(data);
        try {
            a.write(data);
        } catch (KvmtoolException e) {
            if (!a.isWriter()) {
                return; // displaced: displaced() closes the socket, after the output already queued
            }
            notice(e.getMessage()); // the guest is not reading its input, say: the session goes on
        }
    }

    private void notice(String text) {
        Session s = session;
        if (s != null && s.isOpen()) {
            s.getAsyncRemote().sendText(text);
        }
    }

    // ---- the console's delivery thread: never block

    @Override
    public void output(byte[] data) {
        outbox.offer(data);
    }

    @Override
    public void closed() {
        outbox.finish(() -> close(CloseCodes.ENDED, "the console of '" + domain + "' ended"));
    }

    @Override
    public void displaced() {
        LOG.info(() -> user + "'s browser console of '" + domain + "' was taken over by another session");
        outbox.finish(() -> close(CloseCodes.TAKEN_OVER, "another session took the console over"));
    }

    // ---- the socket's end

    @Override
    public void onClose(Session s, CloseReason reason) {
        detach();
    }

    @Override
    public void onError(Session s, Throwable failure) {
        LOG.log(Level.FINE, "console socket of '" + domain + "' failed", failure);
        detach();
    }

    private void detach() {
        Outbox o = outbox;
        if (o != null) {
            o.close();
        }
        ConsoleAttachment a = attachment.getAndSet(null);
        if (a != null) {
            a.close();
            LOG.info(() -> user + " detached from the console of '" + domain + "'");
        }
    }

    private void close(int code, String why) {
        Session s = session;
        try {
            if (s != null && s.isOpen()) {
                s.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(code), CloseCodes.reason(why)));
            }
        } catch (IOException e) {
            LOG.log(Level.FINE, "closing the console socket of '" + domain + "'", e);
        } finally {
            detach();
        }
    }
}
