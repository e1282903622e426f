package org.kvmtool.manager.launch;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * kvmtool's IPC server as kvmtool-facts.md describes it: one thread, serving one connection at a time
 * and reading requests from it until the peer closes. Modes make it misbehave like a wedged lkvm.
 */
final class FakeLkvm implements AutoCloseable {
    enum Mode { ANSWER, ACCEPT_NEVER_READ, NEVER_ACCEPT }

    record Request(int type, byte[] payload) {
    }

    final List<Request> requests = new CopyOnWriteArrayList<>();
    private final ServerSocketChannel server;
    private final Path path;
    private final Thread thread;
    private final int pid;
    private final Mode mode;
    private volatile int vmState; // 0 running, 1 paused
    private volatile byte[] statReply; // null: never answer STAT (no balloon driver)
    private volatile Runnable onStop = () -> { };
    private final List<SocketChannel> held = new CopyOnWriteArrayList<>();

    FakeLkvm(Path path, int pid, Mode mode) throws IOException {
        this.path = path;
        this.pid = pid;
        this.mode = mode;
        Files.createDirectories(path.getParent());
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path), 1);
        thread = new Thread(this::serve, "fake-lkvm");
        thread.setDaemon(true);
        thread.start();
    }

    /** A socket file that nobody listens on: a connect gets ECONNREFUSED, as in lkvm's first moments. */
    static void ghost(Path path) throws IOException {
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(path));
        }
    }

    FakeLkvm paused(boolean paused) {
        vmState = paused ? 1 : 0;
        return this;
    }

    FakeLkvm statReply(byte[] reply) {
        statReply = reply;
        return this;
    }

    FakeLkvm onStop(Runnable r) {
        onStop = r;
        return this;
    }

    /** Requests without an answer return to the caller before the server has read them: wait for them. */
    FakeLkvm awaitRequests(int n) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (requests.size() < n && System.nanoTime() < end) {
            Thread.sleep(2);
        }
        return this;
    }

    List<Integer> types() {
        return requests.stream().map(Request::type).toList();
    }

    private void serve() {
        if (mode == Mode.NEVER_ACCEPT) {
            return;
        }
        try {
            while (true) {
                SocketChannel c = server.accept();
                if (mode == Mode.ACCEPT_NEVER_READ) {
                    held.add(c);
                    continue;
                }
                try (c) {
                    serveConnection(c);
                }
            }
        } catch (IOException closed) {
            // close() ends the loop
        }
    }

    private void serveConnection(SocketChannel c) throws IOException {
        while (true) {
            ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            if (!readFully(c, head)) {
                return; // the client closed: next connection
            }
            int type = head.getInt(0);
            ByteBuffer payload = ByteBuffer.allocate(head.getInt(4));
            readFully(c, payload);
            requests.add(new Request(type, payload.array()));
            ByteBuffer reply = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            switch (type) {
                case IpcWire.PID -> reply.putInt(pid);
                case IpcWire.VMSTATE -> reply.putInt(vmState);
                case IpcWire.PAUSE -> vmState = 1;
                case IpcWire.RESUME -> vmState = 0;
                case IpcWire.STOP -> {
                    if (vmState == 0) {
                        onStop.run();
                    }
                }
                case IpcWire.STAT -> {
                    byte[] r = statReply;
                    if (r == null) {
                        // kvmtool's IPC thread waits for the guest for good; so do we (until closed)
                        readFully(c, ByteBuffer.allocate(1));
                        return;
                    }
                    reply = ByteBuffer.wrap(r).position(r.length);
                }
                default -> { }
            }
            reply.flip();
            while (reply.hasRemaining()) {
                c.write(reply);
            }
        }
    }

    private static boolean readFully(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (SocketChannel c : held) {
            c.close();
        }
        Files.deleteIfExists(path);
    }
}
