package org.kvmtool.manager.rpc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainEvent;
import org.kvmtool.manager.api.DomainEventListener;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * One client: a reader thread that decodes calls and runs them in order (as libvirt does per
 * connection), and a writer thread that owns the socket's output, so neither the driver's event thread nor
 * the console thread ever blocks on a slow client. A client that lets its queue overflow is dropped.
 */
final class ClientConnection implements Session, DomainEventListener {
    private static final Logger LOG = Logger.getLogger(ClientConnection.class.getName());
    private static final int QUEUE = 4096;
    private static final Supplier<byte[]> CLOSE = () -> null;

    private final SocketChannel channel;
    private final String peer;
    private final boolean readOnlySocket;
    private final DomainDriver driver;
    private final Dispatcher dispatcher;
    private final Runnable onClose;
    private final BlockingQueue<Supplier<byte[]>> outbound = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicInteger nextCallback = new AtomicInteger(1);
    /** callback id -> the domain it is limited to, or the uuid of nothing ("all") */
    private final Map<Integer, Filter> callbacks = new ConcurrentHashMap<>();
    private final Map<Integer, ConsoleStream> streams = new ConcurrentHashMap<>();
    private volatile boolean open;
    private volatile boolean readOnly;
    private volatile boolean legacyEvents;
    private volatile ConsoleStream pendingStream;

    private record Filter(UUID uuid) {
        boolean accepts(DomainEvent e) {
            return uuid == null || uuid.equals(e.uuid());
        }
    }

    ClientConnection(SocketChannel channel, String peer, boolean readOnlySocket, DomainDriver driver,
                     Dispatcher dispatcher, Runnable onClose) {
        this.channel = channel;
        this.peer = peer;
        this.readOnlySocket = readOnlySocket;
        this.readOnly = readOnlySocket;
        this.driver = driver;
        this.dispatcher = dispatcher;
        this.onClose = onClose;
    }

    void start(ThreadFactory threads) {
        threads.newThread(this::readLoop).start();
        threads.newThread(this::writeLoop).start();
    }

    private void readLoop() {
        try {
            while (!closed.get()) {
                Packet p = readPacket();
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

    private Packet readPacket() throws IOException {
        ByteBuffer len = ByteBuffer.allocate(4);
        if (!fill(len)) {
            return null;
        }
        int n = len.getInt(0);
        if (n < Packet.HEADER_BYTES || n > Packet.MAX_BYTES) {
            throw RpcException.malformed("frame length " + n);
        }
        ByteBuffer frame = ByteBuffer.allocate(n);
        frame.put(len.flip());
        if (!fill(frame)) {
            return null;
        }
        return Packet.decode(frame.array());
    }

    private boolean fill(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                return false;
            }
        }
        return true;
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
            stream(p);
            return;
        }
        if (p.type() != Packet.CALL) {
            return;
        }
        try {
            byte[] reply = dispatcher.call(this, p);
            send(p.answer(Packet.REPLY, Packet.OK, reply));
            if (pendingStream != null) {
                // the console's bytes may flow only now that virsh has its reply
                ConsoleStream s = pendingStream;
                pendingStream = null;
                s.start();
            }
            if (p.proc() == Proc.CONNECT_CLOSE) {
                send(CLOSE);
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

    /** Client-side STREAM packets of a console: data, finish (OK) or abort (ERROR). */
    private void stream(Packet p) {
        ConsoleStream s = streams.get(p.serial());
        if (s == null) {
            return;
        }
        if (p.status() == Packet.CONTINUE) {
            try {
                s.write(p.payload());
            } catch (KvmtoolException e) {
                LOG.fine("rpc: console input dropped: " + e.getMessage());
            }
            return;
        }
        streams.remove(p.serial());
        s.close();
        if (p.status() == Packet.OK) {
            send(p.answer(Packet.STREAM, Packet.OK, new byte[0]));
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
        if (callbacks.isEmpty() && !legacyEvents) {
            driver.addListener(this);
        }
        if (legacy) {
            legacyEvents = true;
            return -1;
        }
        int id = nextCallback.getAndIncrement();
        callbacks.put(id, new Filter(domain == null ? null : domain.uuid()));
        return id;
    }

    @Override
    public void deregister(int callbackId) {
        if (callbacks.remove(callbackId) == null) {
            throw new RpcException(RpcException.VIR_ERR_RPC, "no callback with id " + callbackId);
        }
        stopEventsIfUnused();
    }

    @Override
    public void deregisterLegacy() {
        legacyEvents = false;
        stopEventsIfUnused();
    }

    private void stopEventsIfUnused() {
        if (callbacks.isEmpty() && !legacyEvents) {
            driver.removeListener(this);
        }
    }

    @Override
    public void openConsole(Packet call, String domain, boolean force) {
        int serial = call.serial();
        ConsoleStream s = new ConsoleStream(
                data -> send(call.answer(Packet.STREAM, Packet.CONTINUE, data)),
                () -> send(call.answer(Packet.STREAM, Packet.CONTINUE, new byte[0])));
        s.attached(driver.attachConsole(domain, force, s));
        streams.put(serial, s);
        pendingStream = s;
    }

    /** Driver event thread: only enqueue; the lookup for the push happens on the writer thread. */
    @Override
    public void onEvent(DomainEvent event) {
        for (Map.Entry<Integer, Filter> cb : callbacks.entrySet()) {
            if (cb.getValue().accepts(event)) {
                int id = cb.getKey();
                enqueue(() -> eventPacket(event, id).encode());
            }
        }
        if (legacyEvents) {
            enqueue(() -> eventPacket(event, -1).encode());
        }
    }

    private Packet eventPacket(DomainEvent e, int callbackId) {
        XdrOut out = new XdrOut();
        if (callbackId >= 0) {
            out.writeInt(callbackId);
        }
        DomainInfo d = driver.lookupByUuid(e.uuid()).orElse(null);
        if (d != null) {
            Dispatcher.writeDomain(out, d);
        } else {
            ByteBuffer b = ByteBuffer.allocate(16);
            b.putLong(e.uuid().getMostSignificantBits()).putLong(e.uuid().getLeastSignificantBits());
            out.writeString(e.name()).writeFixedOpaque(b.array()).writeInt(-1);
        }
        out.writeInt(e.event().libvirtCode()).writeInt(Math.max(0, e.event().detailCode(e.detail())));
        int proc = callbackId >= 0 ? Proc.DOMAIN_EVENT_CALLBACK_LIFECYCLE : Proc.DOMAIN_EVENT_LIFECYCLE;
        return new Packet(Packet.REMOTE_PROGRAM, Packet.VERSION, proc, Packet.MESSAGE, 0, Packet.OK, out.toByteArray());
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

    private void send(Supplier<byte[]> marker) {
        enqueue(marker);
    }

    private void enqueue(Supplier<byte[]> item) {
        if (closed.get()) {
            return;
        }
        if (!outbound.offer(item)) {
            LOG.warning("rpc: client " + peer + " is not reading its replies; disconnecting it");
            close();
        }
    }

    private void writeLoop() {
        try {
            while (true) {
                Supplier<byte[]> item = outbound.take();
                byte[] frame = item.get();
                if (frame == null) {
                    break;
                }
                ByteBuffer b = ByteBuffer.wrap(frame);
                while (b.hasRemaining()) {
                    channel.write(b);
                }
            }
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
        driver.removeListener(this);
        streams.values().forEach(ConsoleStream::close);
        streams.clear();
        outbound.clear();
        outbound.offer(CLOSE);
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "rpc: close", e);
        }
        onClose.run();
    }
}
