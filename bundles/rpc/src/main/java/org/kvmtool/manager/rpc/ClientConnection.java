package org.kvmtool.manager.rpc;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainInfo;

/**
 * One client: a reader thread that decodes calls and runs them in order (as libvirt does per
 * connection), and a writer thread ({@link Outbox}) that owns the socket's output. Its event callbacks
 * are {@link EventCallbacks}, its consoles {@link ConsoleStreams}. A client that lets its queue overflow is
 * dropped.
 */
final class ClientConnection implements Session {
    private static final Logger LOG = Logger.getLogger(ClientConnection.class.getName());

    private final SocketChannel channel;
    private final String peer;
    private final boolean readOnlySocket;
    private final Dispatcher dispatcher;
    private final Runnable onClose;
    private final Outbox outbox = new Outbox();
    private final EventCallbacks events;
    private final ConsoleStreams consoles;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean open;
    private volatile boolean readOnly;

    ClientConnection(SocketChannel channel, String peer, boolean readOnlySocket, DomainDriver driver,
                     Dispatcher dispatcher, Runnable onClose) {
        this.channel = channel;
        this.peer = peer;
        this.readOnlySocket = readOnlySocket;
        this.readOnly = readOnlySocket;
        this.dispatcher = dispatcher;
        this.onClose = onClose;
        this.events = new EventCallbacks(driver, this::enqueue);
        this.consoles = new ConsoleStreams(driver, this::send);
    }

    void start(ThreadFactory threads) {
        threads.newThread(this::readLoop).start();
        threads.newThread(this::writeLoop).start();
    }

    private void readLoop() {
        try {
            FrameReader frames = new FrameReader(channel);
            while (!closed.get()) {
                Packet p = frames.next();
                if (p == null) {
                    break;
                }
                handle(p);
            }
        } catch (IOException | RpcException e) {
            LOG.log(Level.FINE, "rpc: connection from " + peer + " ends: " + e.getMessage());
        } finally {
            close();
        }
    }

    private void handle(Packet p) {
        if (p.prog() == Packet.KEEPALIVE_PROGRAM) {
            if (p.proc() == Proc.KEEPALIVE_PING) {
                send(new Packet(Packet.KEEPALIVE_PROGRAM, 1, Proc.KEEPALIVE_PONG, Packet.MESSAGE, 0, Packet.OK, new byte[0]));
            }
            return;
        }
        if (p.prog() != Packet.REMOTE_PROGRAM || p.vers() != Packet.VERSION) {
            sendError(p, new RpcException(RpcException.VIR_ERR_RPC, "unknown program " + Integer.toHexString(p.prog())));
            return;
        }
        if (p.type() == Packet.STREAM) {
            consoles.received(p);
            return;
        }
        if (p.type() != Packet.CALL) {
            return;
        }
        try {
            byte[] reply = dispatcher.call(this, p);
            send(p.answer(Packet.REPLY, Packet.OK, reply));
            // the console's bytes may flow only now that virsh has its reply
            consoles.startPending();
            if (p.proc() == Proc.CONNECT_CLOSE) {
                outbox.offerEnd();
            }
        } catch (RpcException e) {
            if (e.code == RpcException.VIR_ERR_OPERATION_DENIED) {
                LOG.warning("rpc: refused procedure " + p.proc() + " to " + peer + ": read-only connection");
            }
            sendError(p, e);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "rpc: procedure " + p.proc() + " failed", e);
            sendError(p, new RpcException(1, "internal error: " + e));
        }
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void opened(boolean readOnlyRequested) {
        open = true;
        readOnly = readOnlySocket || readOnlyRequested;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public int registerLifecycle(DomainInfo domain, boolean legacy) {
        return events.register(domain, legacy);
    }

    @Override
    public void deregister(int callbackId) {
        events.deregister(callbackId);
    }

    @Override
    public void deregisterLegacy() {
        events.deregisterLegacy();
    }

    @Override
    public void openConsole(Packet call, String domain, boolean force) {
        consoles.open(call, domain, force);
    }

    private void sendError(Packet call, RpcException e) {
        XdrOut out = new XdrOut();
        out.writeInt(e.code).writeInt(6 /* VIR_FROM_DOM */).writeOptionalString(e.getMessage())
                .writeInt(2 /* VIR_ERR_ERROR */).writeInt(0 /* dom */)
                .writeInt(0).writeInt(0).writeInt(0) /* str1..3 */
                .writeInt(0).writeInt(0) /* int1, int2 */.writeInt(0 /* net */);
        send(call.answer(Packet.REPLY, Packet.ERROR, out.toByteArray()));
    }

    private void send(Packet p) {
        byte[] frame = p.encode();
        enqueue(() -> frame);
    }

    private void enqueue(Supplier<byte[]> item) {
        if (closed.get()) {
            return;
        }
        if (!outbox.offer(item)) {
            LOG.warning("rpc: client " + peer + " is not reading its replies; disconnecting it");
            close();
        }
    }

    private void writeLoop() {
        try {
            outbox.writeAll(channel);
        } catch (IOException | InterruptedException | RuntimeException e) {
            LOG.log(Level.FINE, "rpc: writer for " + peer + " ends: " + e);
        } finally {
            close();
        }
    }

    void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        events.close();
        consoles.closeAll();
        outbox.clear();
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "rpc: close", e);
        }
        onClose.run();
    }
}
