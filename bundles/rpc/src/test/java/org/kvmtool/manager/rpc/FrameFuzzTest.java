package org.kvmtool.manager.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.testing.FakeDomainDriver;

/**
 * The server's handling of what a client sends, under Jazzer: the bytes are a connection's whole input,
 * read by the server's own {@link ClientConnection} (framing, limits, keepalive, calls through the
 * {@link Dispatcher}, events, console streams) over a fake driver, its calls run at once. Whatever the bytes,
 * the connection either goes on or ends with a typed error (RpcException, EOF); never another exception, never
 * an "internal error" reply or a connection ended by an unexpected failure (both are logged with their
 * exception, which is what the fuzzer watches), and every byte it took from the budget is given back.
 * {@link #readOnlySocket}: an unprivileged user on the read-only socket, whose input must change nothing.
 * {@link #readWriteSocket}: root on the read-write one.
 *
 * <p>The normal build replays the seeds in {@code FrameFuzzTestInputs/} (what virsh 9.0.0 sent for each of
 * its commands, recorded through a proxy). To fuzz: {@code JAZZER_FUZZ=1 mvn -pl bundles/rpc test
 * -Dtest=FrameFuzzTest#readOnlySocket} (or #readWriteSocket).
 */
class FrameFuzzTest {
    private static final Logger RPC = Logger.getLogger("org.kvmtool.manager.rpc");
    /** The first unexpected failure the server logged while handling the current input. */
    private static final ThreadLocal<Throwable> UNEXPECTED = new ThreadLocal<>();

    static {
        // the server's log is the fuzzer's oracle: an exception logged is a finding; nothing reaches the console
        RPC.setUseParentHandlers(false);
        RPC.addHandler(new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getThrown() != null && r.getLevel().intValue() >= Level.WARNING.intValue() && UNEXPECTED.get() == null) {
                    UNEXPECTED.set(r.getThrown());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }

    @FuzzTest(maxDuration = "5m")
    void readOnlySocket(byte[] input) throws Throwable {
        FakeDomainDriver driver = driver();
        List<DomainInfo> before = driver.list();
        serve(input, true, "nobody", driver);
        assertEquals(before, driver.list(), "the read-only socket changed something");
    }

    @FuzzTest(maxDuration = "5m")
    void readWriteSocket(byte[] input) throws Throwable {
        serve(input, false, "root", driver());
    }

    private static FakeDomainDriver driver() {
        FakeDomainDriver d = new FakeDomainDriver();
        d.define("<domain type='kvmtool'><name>alpha</name><memory unit='KiB'>131072</memory></domain>");
        d.start("alpha");
        d.define("<domain type='kvmtool'><name>beta</name><memory unit='KiB'>131072</memory></domain>");
        return d;
    }

    /** One connection whose client sends {@code input} and then closes its side. */
    static void serve(byte[] input, boolean readOnlySocket, String user, FakeDomainDriver driver) throws Throwable {
        UNEXPECTED.remove();
        InlineServer server = new InlineServer(Limits.DEFAULTS, Runnable::run);
        ClientConnection c = new ClientConnection(new Wire(input), user, readOnlySocket, driver,
                new Dispatcher(driver, () -> "fuzz"), server, 0);
        server.admission.accepted(c);
        try {
            while (!c.isClosed() && c.wantsRead()) {
                c.onReadable();
            }
        } catch (EOFException | RpcException typed) {
            // the client's bytes ended, or broke the framing: the connection ends, as it should
        } finally {
            c.close(null);
        }
        Throwable t = UNEXPECTED.get();
        if (t != null) {
            throw t;
        }
        assertEquals(0, server.budget.used(), "budget not given back");
    }

    /** The client's side: its bytes, then the end; what the server writes is dropped. */
    private static final class Wire implements ByteChannel {
        private final ByteBuffer in;

        Wire(byte[] input) {
            this.in = ByteBuffer.wrap(input);
        }

        @Override
        public int read(ByteBuffer dst) {
            if (!in.hasRemaining()) {
                return -1;
            }
            int n = Math.min(dst.remaining(), in.remaining());
            ByteBuffer slice = in.slice();
            slice.limit(n);
            dst.put(slice);
            in.position(in.position() + n);
            return n;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() throws IOException {
        }
    }
}
