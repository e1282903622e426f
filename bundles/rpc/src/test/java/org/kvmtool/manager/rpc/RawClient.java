package org.kvmtool.manager.rpc;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;

/** A libvirt RPC client that writes whatever frames a test wants, well formed or not (blocking I/O). */
final class RawClient implements AutoCloseable {
    private final SocketChannel channel;
    private int serial;

    RawClient(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
    }

    /** A call's frame: REMOTE program, version 1, type CALL. */
    static byte[] call(int proc, int serial, byte[] body) {
        return new Packet(Packet.REMOTE_PROGRAM, Packet.VERSION, proc, Packet.CALL, serial, Packet.OK, body).encode();
    }

    void write(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    /** Sends a call and returns its reply (events and stream packets before it are skipped). */
    Packet call(int proc, byte[] body) throws IOException {
        int s = ++serial;
        write(call(proc, s, body));
        while (true) {
            Packet p = read();
            if (p.type() == Packet.REPLY && p.serial() == s) {
                return p;
            }
        }
    }

    /** AUTH_LIST, then CONNECT_OPEN of kvmtool:///system, as virsh opens; returns the open's reply. */
    Packet open() throws IOException {
        call(Proc.AUTH_LIST, new byte[0]);
        return call(Proc.CONNECT_OPEN, new XdrOut().writeOptionalString("kvmtool:///system").writeInt(0).toByteArray());
    }

    /** CONNECT_LIST_ALL_DOMAINS' count of domains, or a failure when the reply is an error. */
    int countDomains() throws IOException {
        Packet r = call(Proc.CONNECT_LIST_ALL_DOMAINS, new XdrOut().writeInt(0).writeInt(0).toByteArray());
        if (r.status() != Packet.OK) {
            throw new IOException("error reply: " + errorMessage(r));
        }
        XdrIn in = r.body();
        in.readInt();
        return in.readInt();
    }

    Packet read() throws IOException {
        ByteBuffer len = ByteBuffer.allocate(4);
        fill(len);
        ByteBuffer frame = ByteBuffer.allocate(len.getInt(0));
        frame.put(len.flip());
        fill(frame);
        return Packet.decode(frame.array());
    }

    /** The message of an error reply (remote_error: code, domain, message...). */
    static String errorMessage(Packet error) {
        XdrIn in = error.body();
        in.readInt();
        in.readInt();
        return in.readOptionalString();
    }

    /** True when the server closes the connection within {@code timeout} (reads and drops what comes). */
    boolean closedByServerWithin(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        channel.configureBlocking(false);
        ByteBuffer sink = ByteBuffer.allocate(1 << 16);
        try {
            while (System.nanoTime() < deadline) {
                sink.clear();
                int n;
                try {
                    n = channel.read(sink);
                } catch (IOException reset) {
                    return true;
                }
                if (n < 0) {
                    return true;
                }
                if (n == 0) {
                    sleep(10);
                }
            }
            return false;
        } finally {
            channel.configureBlocking(true);
        }
    }

    private void fill(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("closed by the server");
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
