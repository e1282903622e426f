package org.kvmtool.manager.contract;

import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * lkvm's IPC protocol: little-endian {@code u32 type; u32 len;} then the payload. One connection per use, and
 * the rules that real lkvm imposes (see the report of issue #3): a connection begins with a request that has a
 * reply, whose reply is read before anything else (the server's single epoll thread is edge-triggered: a
 * connection made before it woke for the previous one is not accepted until yet another one arrives), and a
 * reply is always read before closing (lkvm dies of SIGPIPE when it writes to a closed peer).
 */
final class Ipc implements AutoCloseable {
    static final int BALLOON = 1;
    static final int DEBUG = 2;
    static final int STAT = 3;
    static final int PAUSE = 4;
    static final int RESUME = 5;
    static final int STOP = 6;
    static final int PID = 7;
    static final int VMSTATE = 8;

    private final SocketChannel channel;
    private final Selector selector;

    private Ipc(SocketChannel channel) throws IOException {
        this.channel = channel;
        channel.configureBlocking(false);
        selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
    }

    /** Connects, retrying while the socket is absent or not yet listening (ECONNREFUSED), up to timeout. */
    static Ipc connect(Path socket, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                return new Ipc(ch);
            } catch (SocketException e) {
                ch.close();
                if (System.nanoTime() > deadline) {
                    throw new IOException("no lkvm listening on " + socket + " after " + timeout, e);
                }
                Thread.sleep(1);
            }
        }
    }

    void send(int type, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(payload.length).put(payload).flip();
        // requests are a few bytes: the socket buffer always takes them
        while (b.hasRemaining()) {
            if (channel.write(b) == 0) {
                Thread.onSpinWait();
            }
        }
    }

    void send(int type) throws IOException {
        send(type, new byte[0]);
    }

    /** Reads exactly n bytes, or empty when they do not all arrive within the timeout. */
    Optional<byte[]> read(int n, Duration timeout) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (b.hasRemaining()) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return Optional.empty();
            }
            selector.select(left);
            selector.selectedKeys().clear();
            if (channel.read(b) < 0) {
                return Optional.empty();
            }
        }
        return Optional.of(b.array());
    }

    /** Reads until the server closes the connection (the DEBUG dump), up to the timeout. */
    Optional<byte[]> readToEnd(Duration timeout) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(4096);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return Optional.empty();
            }
            selector.select(left);
            selector.selectedKeys().clear();
            b.clear();
            int n = channel.read(b);
            if (n < 0) {
                return Optional.of(out.toByteArray());
            }
            out.write(b.array(), 0, n);
        }
    }

    Optional<Integer> readInt(Duration timeout) throws IOException {
        return read(4, timeout).map(a -> ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN).getInt());
    }

    /** A request with an int reply. */
    Optional<Integer> call(int type, Duration timeout) throws IOException {
        send(type);
        return readInt(timeout);
    }

    @Override
    public void close() throws IOException {
        selector.close();
        channel.close();
    }

    /** PID (its reply proves the server took this connection), then a request without reply, then close. */
    static void command(Path socket, int type, byte[] payload) throws IOException, InterruptedException {
        try (Ipc ipc = connect(socket, Duration.ofSeconds(5))) {
            if (ipc.call(PID, Duration.ofSeconds(5)).isEmpty()) {
                throw new IOException("lkvm did not answer PID on " + socket);
            }
            ipc.send(type, payload);
        }
    }

    static void command(Path socket, int type) throws IOException, InterruptedException {
        command(socket, type, new byte[0]);
    }

    static int query(Path socket, int type) throws IOException, InterruptedException {
        try (Ipc ipc = connect(socket, Duration.ofSeconds(5))) {
            return ipc.call(type, Duration.ofSeconds(5))
                    .orElseThrow(() -> new IOException("lkvm did not answer type " + type + " on " + socket));
        }
    }
}
