package org.kvmtool.manager.launch;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

/**
 * One request per connection on a non-blocking UNIX socket, every step bounded by one deadline, so a
 * wedged lkvm costs a caller at most its timeout. kvmtool's IPC thread serves one connection until the
 * peer closes it, so the connection is closed as soon as the answer is in.
 *
 * <p>A request that has no reply (PAUSE, RESUME, STOP, BALLOON, DEBUG) is preceded on the same connection
 * by VMSTATE, whose reply proves that lkvm has accepted this connection, as lkvm's own clients do. lkvm
 * watches its listening socket edge-triggered and accepts one connection per wake-up: a connection made
 * while an earlier one still waits to be accepted stays in the backlog until yet another one arrives
 * (measured on the real lkvm). Knowing each connection was accepted before the next is made avoids that.
 */
final class IpcClient {
    /** The socket is not there or nobody accepts on it (yet): worth retrying while lkvm starts. */
    static final class NotListeningException extends IOException {
        private static final long serialVersionUID = 1L;

        NotListeningException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The deadline passed. */
    static final class TimeoutException extends IOException {
        private static final long serialVersionUID = 1L;

        TimeoutException(String message) {
            super(message);
        }
    }

    private static final long STAT_QUIET_NANOS = 20_000_000L;
    private static final long BUSY_RETRY_NANOS = 1_000_000L;

    private IpcClient() {
    }

    /**
     * Sends the request and reads exactly {@code replyBytes}; a request without reply ({@code replyBytes}
     * 0) goes after a VMSTATE whose answer is read first (see the class comment).
     */
    static byte[] call(Path socket, ByteBuffer request, int replyBytes, long timeoutNanos) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        try (SocketChannel ch = connect(socket, deadline); Selector sel = Selector.open()) {
            ch.register(sel, 0);
            if (replyBytes == 0) {
                send(ch, sel, IpcWire.request(IpcWire.VMSTATE), deadline);
                read(ch, sel, 4, deadline);
            }
            send(ch, sel, request, deadline);
            return read(ch, sel, replyBytes, deadline);
        }
    }

    private static byte[] read(SocketChannel ch, Selector sel, int bytes, long deadline) throws IOException {
        ByteBuffer reply = ByteBuffer.allocate(bytes);
        while (reply.hasRemaining()) {
            int n = ch.read(reply);
            if (n < 0) {
                throw new EOFException("lkvm closed the connection after " + reply.position() + " of "
                        + bytes + " bytes");
            }
            if (n == 0) {
                await(sel, SelectionKey.OP_READ, deadline);
            }
        }
        return reply.array();
    }

    /**
     * Sends the request and reads an answer of unknown length (STAT): waits for the first bytes until
     * the deadline, then takes what follows until the peer closes or stays quiet briefly.
     */
    static byte[] callUntilQuiet(Path socket, ByteBuffer request, long timeoutNanos) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        try (SocketChannel ch = connect(socket, deadline); Selector sel = Selector.open()) {
            ch.register(sel, 0);
            send(ch, sel, request, deadline);
            ByteBuffer reply = ByteBuffer.allocate(4096);
            while (reply.hasRemaining()) {
                int n = ch.read(reply);
                if (n < 0) {
                    break;
                }
                if (n == 0) {
                    long until = reply.position() == 0 ? deadline
                            : Math.min(deadline, System.nanoTime() + STAT_QUIET_NANOS);
                    if (!select(sel, SelectionKey.OP_READ, until)) {
                        if (reply.position() == 0) {
                            throw new TimeoutException("no answer");
                        }
                        break;
                    }
                }
            }
            byte[] out = new byte[reply.position()];
            reply.flip().get(out);
            return out;
        }
    }

    /**
     * A non-blocking UNIX connect completes at once or fails: ECONNREFUSED or a missing file means
     * nobody listens; EAGAIN means the listen backlog is full (lkvm busy with another client), which
     * is retried until the deadline. A failed connect closes the channel, so each try opens a new one.
     */
    private static SocketChannel connect(Path socket, long deadline) throws IOException {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.configureBlocking(false);
                if (ch.connect(address) || ch.finishConnect()) {
                    return ch;
                }
                ch.close();
                throw new NotListeningException(socket + ": connection pending", null);
            } catch (ConnectException e) {
                ch.close();
                throw new NotListeningException(socket + ": " + e.getMessage(), e);
            } catch (IOException e) {
                ch.close();
                if (e instanceof NotListeningException) {
                    throw e;
                }
                if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                    throw new NotListeningException(socket + ": no such socket", e);
                }
                if (System.nanoTime() >= deadline) {
                    throw new TimeoutException("backlog full");
                }
                LockSupport.parkNanos(BUSY_RETRY_NANOS);
            }
        }
    }

    private static void send(SocketChannel ch, Selector sel, ByteBuffer request, long deadline) throws IOException {
        while (request.hasRemaining()) {
            if (ch.write(request) == 0) {
                await(sel, SelectionKey.OP_WRITE, deadline);
            }
        }
    }

    private static void await(Selector sel, int op, long deadline) throws IOException {
        if (!select(sel, op, deadline)) {
            throw new TimeoutException("no answer");
        }
    }

    /** Waits for {@code op} until the deadline; false if it passed. */
    private static boolean select(Selector sel, int op, long deadline) throws IOException {
        SelectionKey key = sel.keys().iterator().next();
        key.interestOps(op);
        while (true) {
            long leftMillis = (deadline - System.nanoTime() + 999_999) / 1_000_000L;
            if (leftMillis <= 0) {
                return false;
            }
            sel.selectedKeys().clear();
            if (sel.select(leftMillis) > 0 || !sel.selectedKeys().isEmpty()) {
                return true;
            }
        }
    }
}
