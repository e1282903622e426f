package org.kvmtool.manager.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.kvmtool.manager.lean.Jolokia;
import org.kvmtool.manager.lean.LeanInstance;

/**
 * A hostile local user against the libvirt RPC endpoint (issue 21), on the Karaf distribution and on the lean
 * runtime (64 MiB heap): absurd frame, string and array lengths, random bytes, an unknown program, thousands of
 * calls whose replies are never read, thousands of idle half-frames. After each case the stock virsh answers on
 * both sockets and Jolokia answers a read; the manager's heap in use (after a GC) is printed before and after.
 * Part of the fault campaign (tag {@code faults}, the default build); seeds are printed ({@code -Dfaults.seed=N}).
 */
@Tag("faults")
class HostileClientTest {
    private static final Path VIRSH = Path.of("/usr/bin/virsh");
    private static final int REMOTE = 0x20008086;
    private static final int CONNECT_OPEN = 1;
    private static final int DOMAIN_GET_XML_DESC = 14;
    private static final int DOMAIN_LOOKUP_BY_NAME = 23;
    private static final int CONNECT_LIST_DOMAINS = 37;
    private static final int AUTH_LIST = 66;
    private static final int CONNECT_LIST_ALL_DOMAINS = 273;
    private static final int IDLE_CONNECTIONS = Integer.getInteger("faults.hostile.idle", 3000);
    private static final int UNREAD_CALLS = Integer.getInteger("faults.hostile.unread", 10_000);

    /** What the cases need of a runtime. */
    interface Manager extends AutoCloseable {
        Path socket();

        Path readOnlySocket();

        /** A Jolokia read of the Manager's Version, as an operator's client makes it. */
        String version() throws Exception;

        /** Heap in use after a GC, bytes (java.lang:type=Memory over Jolokia). */
        long heapInUse() throws Exception;

        void define(String name) throws Exception;
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    class Karaf extends Cases {
        @BeforeAll
        void boot() throws Exception {
            assumeTrue(Files.isExecutable(VIRSH), "virsh is not installed (apt-get install libvirt-clients)");
            Product p = new Product(lkvm(), Map.of());
            manager = new Manager() {
                public Path socket() {
                    return p.rpcSocket();
                }

                public Path readOnlySocket() {
                    return p.rpcReadOnlySocket();
                }

                public String version() throws Exception {
                    return (String) p.read("kvmtool:type=Manager", "Version");
                }

                public long heapInUse() throws Exception {
                    p.exec("java.lang:type=Memory", "gc");
                    return ((Number) ((Map<?, ?>) p.read("java.lang:type=Memory", "HeapMemoryUsage")).get("used")).longValue();
                }

                public void define(String name) throws Exception {
                    p.define(Product.xml(name, guest(), 32));
                }

                public void close() throws Exception {
                    p.close();
                }
            };
            long boot = p.start();
            System.out.printf("HOSTILE Karaf boot: Jolokia after %d ms, boot features settled %d ms later%n", boot,
                    Campaign.awaitBootFeatures(p, Product.BOOT_TIMEOUT));
            prepare("Karaf");
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    class Lean extends Cases {
        @BeforeAll
        void boot() throws Exception {
            assumeTrue(Files.isExecutable(VIRSH), "virsh is not installed (apt-get install libvirt-clients)");
            Path state = Files.createTempDirectory(Path.of("/tmp"), "kh"); // short: socket paths must fit
            Path rw = state.resolve("rpc.sock");
            Path ro = state.resolve("rpc-ro.sock");
            LeanInstance lean = new LeanInstance(LeanInstance.distribution(), state.resolve("base"),
                    Map.of("uri", "kvmtool:///session", "lkvm.binary", lkvm().toString(),
                            "config.dir", state.resolve("c").toString(), "run.dir", state.resolve("r").toString(),
                            "log.dir", state.resolve("l").toString()),
                    Map.of("socket", rw.toString(), "socket_ro", ro.toString()));
            manager = new Manager() {
                public Path socket() {
                    return rw;
                }

                public Path readOnlySocket() {
                    return ro;
                }

                public String version() throws Exception {
                    return (String) lean.admin().read("kvmtool:type=Manager", "Version").value();
                }

                public long heapInUse() throws Exception {
                    lean.admin().exec("java.lang:type=Memory", "gc").value();
                    Jolokia.Answer a = lean.admin().read("java.lang:type=Memory", "HeapMemoryUsage");
                    return ((Number) ((Map<?, ?>) a.value()).get("used")).longValue();
                }

                public void define(String name) throws Exception {
                    lean.admin().exec("kvmtool:type=Manager", "defineDomain", Product.xml(name, guest(), 32)).value();
                }

                public void close() throws Exception {
                    try {
                        lean.stop(Duration.ofSeconds(30));
                    } finally {
                        lean.close();
                        Product.deleteTree(state);
                    }
                }
            };
            System.out.printf("HOSTILE lean boot: %d ms%n", lean.start(Duration.ofSeconds(120)).toMillis());
            prepare("lean");
        }
    }

    private static Path lkvm() {
        String real = System.getenv("KVMTOOL_LKVM");
        return Path.of(real != null && !real.isEmpty() ? real : System.getProperty("kvmtool.standin.lkvm"));
    }

    private static Path guest() {
        return Path.of(System.getProperty("kvmtool.test.guest"));
    }

    /** The cases, the same for both runtimes. */
    abstract static class Cases {
        private final long seed = Long.getLong("faults.seed", System.nanoTime());
        Manager manager;
        private String runtime;
        private long heapBefore;

        void prepare(String name) throws Exception {
            runtime = name;
            System.out.println("HOSTILE " + runtime + " faults.seed=" + seed);
            manager.define("hostile");
            assertAllAnswer("the start");
        }

        @AfterAll
        void end() throws Exception {
            if (manager != null) {
                manager.close();
            }
        }

        private void before() throws Exception {
            heapBefore = manager.heapInUse();
        }

        /** virsh on both sockets and a Jolokia read answer; prints the heap in use before and after the case. */
        private void after(String what, String detail) throws Exception {
            assertAllAnswer(what);
            long heapAfter = manager.heapInUse();
            System.out.printf("HOSTILE %s %s: %s; virsh (read-write, read-only) and Jolokia answered; heap in use %d -> %d KiB%n",
                    runtime, what, detail, heapBefore >> 10, heapAfter >> 10);
        }

        void assertAllAnswer(String after) throws Exception {
            for (Path s : List.of(manager.socket(), manager.readOnlySocket())) {
                List<String> cmd = List.of(VIRSH.toString(), "-c", "kvmtool:///session?socket=" + s, "list", "--all");
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
                pb.environment().put("LIBVIRT_AUTOSTART", "0");
                Process p = pb.start();
                p.getOutputStream().close();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "virsh on " + s + " hung after " + after);
                assertEquals(0, p.exitValue(), "virsh on " + s + " after " + after + ": " + out);
                assertTrue(out.contains("hostile"), "virsh on " + s + " after " + after + ": " + out);
            }
            assertTrue(!manager.version().isEmpty(), "Jolokia read after " + after);
        }

        @Test
        @Order(1)
        void frameLengthOfTwoToThe31() throws Exception {
            before();
            try (Raw c = new Raw(manager.readOnlySocket())) {
                c.write(ByteBuffer.allocate(4).putInt(0x80000000).array());
                assertTrue(c.closedWithin(Duration.ofSeconds(10)), "the connection is dropped");
            }
            after("frame length 2^31", "connection dropped");
        }

        @Test
        @Order(2)
        void frameLengthBelowTheHeader() throws Exception {
            before();
            try (Raw c = new Raw(manager.readOnlySocket())) {
                c.write(ByteBuffer.allocate(12).putInt(12).putInt(REMOTE).putInt(1).array());
                assertTrue(c.closedWithin(Duration.ofSeconds(10)), "the connection is dropped");
            }
            after("frame length 12 (below the 28-byte header)", "connection dropped");
        }

        @Test
        @Order(3)
        void stringLengthOfTwoToThe31() throws Exception {
            before();
            try (Raw c = new Raw(manager.readOnlySocket())) {
                c.open();
                Reply r = c.call(DOMAIN_LOOKUP_BY_NAME, ByteBuffer.allocate(4).putInt(0x80000000).array());
                assertTrue(r.error(), "an error reply");
                assertTrue(r.message().contains("string length 2147483648"), r.message());
                assertTrue(!c.call(CONNECT_LIST_ALL_DOMAINS, new byte[8]).error(), "the connection goes on");
                after("string length 2^31", "error reply \"" + r.message() + "\", the connection goes on");
            }
        }

        @Test
        @Order(4)
        void arrayCountOfTwoToThe30() throws Exception {
            before();
            try (Raw c = new Raw(manager.readOnlySocket())) {
                c.open();
                Reply r = c.call(CONNECT_LIST_DOMAINS, ByteBuffer.allocate(4).putInt(1 << 30).array());
                assertTrue(r.error(), "an error reply");
                assertTrue(r.message().contains("1073741824"), r.message());
                after("array count 2^30 (maxids)", "error reply \"" + r.message() + "\"");
            }
        }

        @Test
        @Order(5)
        void randomBytes() throws Exception {
            before();
            Random random = new Random(seed);
            int dropped = 0;
            for (int i = 0; i < 200; i++) {
                try (Raw c = new Raw(manager.readOnlySocket())) {
                    if (i % 2 == 1) {
                        c.open(); // half of them after a proper CONNECT_OPEN
                    }
                    byte[] junk = new byte[1 + random.nextInt(8192)];
                    random.nextBytes(junk);
                    try {
                        c.write(junk);
                    } catch (IOException droppedWhileWriting) {
                        dropped++;
                        continue;
                    }
                    if (c.closedWithin(Duration.ofSeconds(i < 10 ? 6 : 0))) {
                        dropped++;
                    }
                }
            }
            after("random bytes, 200 connections (seed " + seed + ")", dropped + " dropped by the server, the others left by the client");
        }

        @Test
        @Order(6)
        void unknownProgram() throws Exception {
            before();
            try (Raw c = new Raw(manager.readOnlySocket())) {
                c.open();
                c.write(Raw.frame(0x12345678, 7, 4242, new byte[0]));
                Reply r = c.read();
                assertEquals(4242, r.serial());
                assertTrue(r.error() && r.message().contains("unknown program"), r.message());
                after("unknown program 0x12345678", "error reply \"" + r.message() + "\"");
            }
        }

        @Test
        @Order(7)
        void thousandsOfCallsWhoseRepliesAreNeverRead() throws Exception {
            before();
            boolean dropped = false;
            long t0 = System.nanoTime();
            try (Raw c = new Raw(manager.readOnlySocket())) {
                c.open();
                byte[] domain = c.domain("hostile");
                try {
                    for (int i = 0; i < UNREAD_CALLS; i++) {
                        c.write(Raw.frame(REMOTE, DOMAIN_GET_XML_DESC, 1000 + i, concat(domain, new byte[4])));
                    }
                } catch (IOException closed) {
                    dropped = true;
                }
                dropped = dropped || c.closedWithin(Duration.ofSeconds(30));
            }
            assertTrue(dropped, "a client that reads none of its replies is dropped");
            after(UNREAD_CALLS + " calls whose replies are never read", "dropped after "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms");
        }

        @Test
        @Order(8)
        void thousandsOfIdleHalfFramesWhileANormalClientIsServed() throws Exception {
            before();
            List<Raw> idle = new ArrayList<>();
            long t0 = System.nanoTime();
            try {
                for (int i = 0; i < IDLE_CONNECTIONS; i++) {
                    Raw c = new Raw(manager.readOnlySocket());
                    idle.add(c);
                    try {
                        c.write(ByteBuffer.allocate(8).putInt(60).putInt(REMOTE).array());
                    } catch (IOException droppedAlready) {
                        // made room for a newer one already
                    }
                }
                long opened = (System.nanoTime() - t0) / 1_000_000;
                long heapHeld = manager.heapInUse();
                // held open by this client: the normal client is served meanwhile
                assertAllAnswer("idle half-frames");
                int closedByServer = 0;
                for (Raw c : idle) {
                    if (c.closedWithin(Duration.ZERO)) {
                        closedByServer++;
                    }
                }
                System.out.printf("HOSTILE %s %d idle half-frames: opened in %d ms, %d closed by the server while held "
                                + "(the rest within open_timeout_seconds); heap in use while held %d KiB%n",
                        runtime, IDLE_CONNECTIONS, opened, closedByServer, heapHeld >> 10);
            } finally {
                for (Raw c : idle) {
                    c.close();
                }
            }
            after(IDLE_CONNECTIONS + " idle half-frames", "all closed by the client now");
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A reply: its serial, and for an error the remote_error's message. */
    record Reply(int serial, boolean error, String message, byte[] body) {
    }

    /** A client of libvirt's RPC that writes what it is told, well formed or not. */
    static final class Raw implements AutoCloseable {
        private final SocketChannel ch;
        private int serial;

        Raw(Path socket) throws IOException {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
        }

        static byte[] frame(int prog, int proc, int serial, byte[] body) {
            return ByteBuffer.allocate(28 + body.length).putInt(28 + body.length).putInt(prog).putInt(1).putInt(proc)
                    .putInt(0).putInt(serial).putInt(0).put(body).array();
        }

        void write(byte[] b) throws IOException {
            ByteBuffer buf = ByteBuffer.wrap(b);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }

        Reply call(int proc, byte[] body) throws IOException {
            int s = ++serial;
            write(frame(REMOTE, proc, s, body));
            while (true) {
                Reply r = read();
                if (r.serial() == s) {
                    return r;
                }
            }
        }

        void open() throws IOException {
            call(AUTH_LIST, new byte[0]);
            byte[] uri = "kvmtool:///session".getBytes(StandardCharsets.US_ASCII);
            ByteBuffer b = ByteBuffer.allocate(12 + (uri.length + 3) / 4 * 4).putInt(1).putInt(uri.length).put(uri);
            Reply r = call(CONNECT_OPEN, b.array());
            assertTrue(!r.error(), "CONNECT_OPEN: " + r.message());
        }

        /** remote_nonnull_domain of the named domain, as LOOKUP_BY_NAME returns it. */
        byte[] domain(String name) throws IOException {
            byte[] n = name.getBytes(StandardCharsets.US_ASCII);
            Reply r = call(DOMAIN_LOOKUP_BY_NAME, ByteBuffer.allocate(4 + (n.length + 3) / 4 * 4).putInt(n.length).put(n).array());
            assertTrue(!r.error(), r.message());
            return r.body();
        }

        Reply read() throws IOException {
            ByteBuffer len = ByteBuffer.allocate(4);
            fill(len);
            ByteBuffer f = ByteBuffer.allocate(len.getInt(0) - 4);
            fill(f);
            f.flip();
            f.position(16);
            int s = f.getInt();
            boolean error = f.getInt() == 1;
            byte[] body = new byte[f.remaining()];
            f.get(body);
            String message = "";
            if (error) {
                ByteBuffer e = ByteBuffer.wrap(body);
                e.getInt();
                e.getInt();
                if (e.getInt() != 0) {
                    byte[] m = new byte[e.getInt()];
                    e.get(m);
                    message = new String(m, StandardCharsets.UTF_8);
                }
            }
            return new Reply(s, error, message, body);
        }

        private void fill(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    throw new EOFException("closed by the server");
                }
            }
        }

        /** True when the server has closed the connection, or does within {@code timeout}. */
        boolean closedWithin(Duration timeout) throws IOException {
            long deadline = System.nanoTime() + timeout.toNanos();
            ch.configureBlocking(false);
            ByteBuffer sink = ByteBuffer.allocate(65536);
            try {
                do {
                    sink.clear();
                    int n;
                    try {
                        n = ch.read(sink);
                    } catch (IOException reset) {
                        return true;
                    }
                    if (n < 0) {
                        return true;
                    }
                    if (n == 0) {
                        Thread.sleep(10);
                    }
                } while (System.nanoTime() < deadline);
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } finally {
                if (ch.isOpen()) {
                    ch.configureBlocking(true);
                }
            }
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
