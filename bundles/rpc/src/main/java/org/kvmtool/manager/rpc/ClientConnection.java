package org.kvmtool.manager.rpc;

import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainInfo;

/**
 * One client. The server's I/O thread reads its frames ({@link FrameReader}) and writes its queue
 * ({@link Outbox}); its calls run in order ({@link SerialQueue}) on the server's workers, as libvirt runs
 * one connection's calls; its event callbacks are {@link EventCallbacks}, its consoles {@link ConsoleStreams}.
 * Once {@code max_client_requests} calls are read and not yet answered, no more is read from it. Whatever
 * goes wrong in it, an Error included, ends this connection and nothing else.
 */
final class ClientConnection implements Session, Admission.Client {
    private static final Logger LOG = Logger.getLogger(ClientConnection.class.getName());
    /**
     * Work waiting beyond the calls (event messages to make, about 100 bytes each): more means the client is
     * not keeping up. Small, so that every connection's queue together stays within a few MiB.
     */
    private static final int MAX_PENDING_TASKS = 256;
    static final int FRAMES_PER_TURN = 16;

    /** What a connection needs from the server that accepted it. */
    interface Server {
        Limits limits();

        MemoryBudget budget();

        Executor workers();

        /** The connection's wish to read or write changed (any thread). */
        void interestChanged(ClientConnection c);

        /** CONNECT_OPEN: counts the connection, or throws RpcException when the limits are reached. */
        void open(ClientConnection c);

        /** The connection is closed; {@code why} is null for an ordinary end. */
        void closed(ClientConnection c, String why);
    }

    private final ByteChannel channel;
    private final String user;
    private final boolean readOnlySocket;
    private final Dispatcher dispatcher;
    private final Server server;
    private final long acceptedNanos;
    private final FrameReader frames = new FrameReader();
    private final Outbox outbox;
    private final SerialQueue serial;
    private final EventCallbacks events;
    private final ConsoleStreams consoles;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile int framesRead;
    private volatile boolean open;
    private volatile boolean readOnly;
    private volatile boolean refused;

    ClientConnection(ByteChannel channel, String user, boolean readOnlySocket, DomainDriver driver,
                     Dispatcher dispatcher, Server server, long acceptedNanos) {
        this.channel = channel;
        this.user = user;
        this.readOnlySocket = readOnlySocket;
        this.readOnly = readOnlySocket;
        this.dispatcher = dispatcher;
        this.server = server;
        this.acceptedNanos = acceptedNanos;
        this.outbox = new Outbox(server.limits().maxClientQueueBytes(), server.budget());
        this.serial = new SerialQueue(server.workers(), server.limits().maxClientRequests() + MAX_PENDING_TASKS,
                this::failed);
        this.events = new EventCallbacks(driver, this::push);
        this.consoles = new ConsoleStreams(driver, p -> send(p.encode()));
    }

    @Override
    public String user() {
        return user;
    }

    @Override
    public long acceptedNanos() {
        return acceptedNanos;
    }

    @Override
    public int framesRead() {
        return framesRead;
    }

    // ------------------------------------------------------------------ the I/O thread

    /**
     * Reads whole frames while the socket has them and the client may have more calls running, at most
     * {@link #FRAMES_PER_TURN}: the rest waits for the next turn, so that a client streaming keepalives (which
     * are answered at once and count as no call) cannot keep the I/O thread from the others.
     */
    void onReadable() throws IOException {
        for (int n = 0; n < FRAMES_PER_TURN && wantsRead(); n++) {
            byte[] frame = frames.read(channel, server.limits().maxFrame(open), server.budget());
            if (frame == null) {
                return;
            }
            framesRead++;
            received(frame);
        }
    }

    void onWritable() {
        flush();
    }

    boolean wantsRead() {
        return !closed.get() && !outbox.isEnding() && inFlight.get() < server.limits().maxClientRequests();
    }

    boolean wantsWrite() {
        return !closed.get() && !outbox.isEmpty();
    }

    boolean isClosed() {
        return closed.get();
    }

    /** The budget held by a frame not yet whole (I/O thread, or after close). */
    long partialFrameBytes() {
        return frames.held();
    }

    /**
     * One whole frame, holding its {@link FrameReader#charge} of the budget until it is handled. Keepalive
     * and unknown programs are answered at once; calls and console input go to this connection's queue.
     */
    void received(byte[] frame) {
        long held = FrameReader.charge(frame.length);
        Packet p;
        try {
            p = Packet.decode(frame);
        } catch (RuntimeException e) {
            server.budget().release(held);
            throw e;
        }
        if (p.prog() == Packet.KEEPALIVE_PROGRAM) {
            server.budget().release(held);
            if (p.proc() == Proc.KEEPALIVE_PING) {
                send(new Packet(Packet.KEEPALIVE_PROGRAM, 1, Proc.KEEPALIVE_PONG, Packet.MESSAGE, 0, Packet.OK,
                        new byte[0]).encode());
            }
            return;
        }
        boolean known = p.prog() == Packet.REMOTE_PROGRAM && p.vers() == Packet.VERSION;
        if (!known || p.type() != Packet.CALL && p.type() != Packet.STREAM) {
            server.budget().release(held);
            // as libvirtd: only a call expects an answer; anything else unknown is dropped
            if (!known && p.type() == Packet.CALL) {
                sendError(p, new RpcException(RpcException.VIR_ERR_RPC, "unknown program " + Integer.toHexString(p.prog())
                        + " version " + p.vers()));
            }
            return;
        }
        inFlight.incrementAndGet();
        try {
            serial.execute(() -> {
                try {
                    if (!closed.get()) {
                        if (p.type() == Packet.STREAM) {
                            consoles.received(p);
                        } else {
                            call(p);
                        }
                    }
                } finally {
                    done(held);
                }
            });
        } catch (RejectedExecutionException e) {
            done(held);
            close("its work queue is full");
        }
    }

    private void done(long held) {
        server.budget().release(held);
        if (inFlight.getAndDecrement() == server.limits().maxClientRequests()) {
            server.interestChanged(this);
        }
    }

    // ------------------------------------------------------------------ a worker

    private void call(Packet p) {
        try {
            byte[] reply = dispatcher.call(this, p);
            send(p.answer(Packet.REPLY, Packet.OK, reply).encode());
            // the console's bytes may flow only now that virsh has its reply
            consoles.startPending();
            if (p.proc() == Proc.CONNECT_CLOSE) {
                endWhenWritten();
            }
        } catch (RpcException e) {
            if (e.code == RpcException.VIR_ERR_OPERATION_DENIED) {
                LOG.warning("rpc: refused procedure " + p.proc() + " to " + user + ": read-only connection");
            }
            sendError(p, e);
            if (refused) {
                endWhenWritten();
            }
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
        try {
            server.open(this);
        } catch (RpcException e) {
            refused = true;
            throw e;
        }
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

    // ------------------------------------------------------------------ any thread

    /** The driver's event thread: the message is made on this connection's queue, in order with its calls. */
    private void push(Supplier<byte[]> message) {
        try {
            serial.execute(() -> {
                if (!closed.get()) {
                    send(message.get());
                }
            });
        } catch (RejectedExecutionException e) {
            close("it is not keeping up with its events");
        }
    }

    private void sendError(Packet call, RpcException e) {
        XdrOut out = new XdrOut();
        out.writeInt(e.code).writeInt(6 /* VIR_FROM_DOM */).writeOptionalString(e.getMessage())
                .writeInt(2 /* VIR_ERR_ERROR */).writeInt(0 /* dom */)
                .writeInt(0).writeInt(0).writeInt(0) /* str1..3 */
                .writeInt(0).writeInt(0) /* int1, int2 */.writeInt(0 /* net */);
        send(call.answer(Packet.REPLY, Packet.ERROR, out.toByteArray()).encode());
    }

    private void send(byte[] frame) {
        if (closed.get()) {
            return;
        }
        if (!outbox.add(frame)) {
            close("it is not reading its replies (max_client_queue_bytes " + server.limits().maxClientQueueBytes()
                    + ", or the server's max_buffer_bytes, reached)");
            return;
        }
        flush();
    }

    /** Writes what the socket takes now; the I/O thread writes the rest when it can. */
    private void flush() {
        try {
            if (!outbox.flush(channel)) {
                server.interestChanged(this);
            } else if (outbox.isEnding()) {
                close(null);
            }
        } catch (IOException e) {
            close("write failed: " + e.getMessage());
        }
    }

    /** Nothing more is read; the connection closes once its queue is written. */
    private void endWhenWritten() {
        outbox.endWhenWritten();
        server.interestChanged(this);
        flush();
    }

    private void failed(Throwable t) {
        LOG.log(Level.WARNING, "rpc: the connection of " + user + " ends on an unexpected failure", t);
        close(t.toString());
    }

    /** Ends the connection; idempotent, from any thread. {@code why} is null for an ordinary end. */
    void close(String why) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        events.close();
        consoles.closeAll();
        outbox.clear();
        frames.release(server.budget());
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "rpc: close", e);
        }
        server.closed(this, why);
    }
}
