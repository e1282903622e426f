package org.kvmtool.manager.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.testing.FakeDomainDriver;

/**
 * Each limit of the RPC endpoint against a real server on sockets of the test's own (never the default
 * paths), with hostile frames written byte by byte; after each, a well-behaved client is still served.
 */
class RpcLimitsTest {
    private Path dir;
    private FakeDomainDriver fake;
    private RpcServer server;
    private Path socket;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("rpc-limits");
        socket = dir.resolve("sock");
        fake = new FakeDomainDriver();
        fake.define("<domain type='kvmtool'><name>alpha</name><memory unit='KiB'>131072</memory></domain>");
    }

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            server.close();
        }
        try (var s = Files.walk(dir)) {
            s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    private static Limits limits(int clients, int perUid, int anonymous, long openMillis, int workers,
                                 long buffer, long queue) {
        Limits d = Limits.DEFAULTS;
        return new Limits(clients, perUid, anonymous, openMillis, workers, d.maxClientRequests(), d.maxMessageBytes(),
                buffer, queue, d.maxQueuedClients());
    }

    private void start(Limits limits, DomainDriver driver, Function<java.nio.channels.SocketChannel, String> who)
            throws IOException {
        server = new RpcServer(driver, null, socket, null, limits, who);
    }

    private void start(Limits limits) throws IOException {
        start(limits, fake, ch -> PeerCredentials.user(ch).orElse("?"));
    }

    /** A normal client on both sockets: opens, lists, closes. */
    private void assertServed() throws IOException {
        for (Path s : List.of(socket, SocketPaths.readOnlyOf(socket))) {
            try (RawClient c = new RawClient(s)) {
                assertEquals(Packet.OK, c.open().status());
                assertEquals(1, c.countDomains());
            }
        }
        assertTrue(server.loop().isAlive(), "the I/O thread runs");
    }

    /** Waits until the server has accepted what the kernel held: {@code n} connections left for a while. */
    private void awaitAccepted(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int stable = 0;
        while (stable < 50 && System.nanoTime() < deadline) {
            stable = server.loop().clientCount() == n ? stable + 1 : 0;
            Thread.sleep(10);
        }
        assertEquals(n, server.loop().clientCount());
    }

    private void awaitBudgetFree() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.loop().budget().used() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, server.loop().budget().used(), "every buffer given back");
    }

    @Test
    void hostileLengthsEndOnlyTheirConnection() throws Exception {
        start(Limits.DEFAULTS);
        for (int length : new int[] {Integer.MIN_VALUE, -1, 0, 27, Limits.DEFAULTS.maxMessageBytes() + 1}) {
            try (RawClient c = new RawClient(SocketPaths.readOnlyOf(socket))) {
                c.open();
                c.write(ByteBuffer.allocate(4).putInt(length).array());
                assertTrue(c.closedByServerWithin(Duration.ofSeconds(5)), "length " + length);
            }
        }
        // before CONNECT_OPEN, libvirt's initial 64 KiB is the most
        try (RawClient c = new RawClient(SocketPaths.readOnlyOf(socket))) {
            c.write(ByteBuffer.allocate(4).putInt(100_000).array());
            assertTrue(c.closedByServerWithin(Duration.ofSeconds(5)));
        }
        assertServed();
        awaitBudgetFree();
    }

    @Test
    void hostileStringsArraysAndProgramsGetErrorReplies() throws Exception {
        start(Limits.DEFAULTS);
        try (RawClient c = new RawClient(SocketPaths.readOnlyOf(socket))) {
            c.open();
            Packet s = c.call(Proc.DOMAIN_LOOKUP_BY_NAME, new XdrOut().writeInt(Integer.MIN_VALUE).toByteArray());
            assertEquals(Packet.ERROR, s.status());
            assertTrue(RawClient.errorMessage(s).contains("string length 2147483648"), RawClient.errorMessage(s));
            Packet a = c.call(Proc.CONNECT_LIST_DOMAINS, new XdrOut().writeInt(1 << 30).toByteArray());
            assertEquals(Packet.ERROR, a.status());
            assertTrue(RawClient.errorMessage(a).contains("maxids 1073741824 is above its limit 16384"),
                    RawClient.errorMessage(a));
            c.write(new Packet(0x12345678, 1, 1, Packet.CALL, 77, Packet.OK, new byte[0]).encode());
            Packet u = c.read();
            assertEquals(77, u.serial());
            assertTrue(RawClient.errorMessage(u).contains("unknown program 12345678"), RawClient.errorMessage(u));
            assertEquals(1, c.countDomains(), "the connection goes on");
        }
        assertServed();
    }

    @Test
    void aConnectionThatDoesNotOpenInTimeIsDropped() throws Exception {
        start(limits(10, 10, 20, 300, 4, 1 << 20, 1 << 20));
        try (RawClient idle = new RawClient(socket); RawClient half = new RawClient(socket)) {
            half.write(new byte[] {0, 0, 0, 40, 0x20, 0});
            long t0 = System.nanoTime();
            assertTrue(idle.closedByServerWithin(Duration.ofSeconds(5)));
            assertTrue(half.closedByServerWithin(Duration.ofSeconds(5)));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 200, "dropped after the timeout, not before: " + ms + " ms");
        }
        try (RawClient c = new RawClient(socket)) {
            c.open();
            Thread.sleep(700);
            assertEquals(1, c.countDomains(), "an opened connection has no such timeout");
        }
        awaitBudgetFree();
    }

    @Test
    void idleHalfFramesCannotKeepOutAClientThatTalks() throws Exception {
        start(limits(10, 10, 5, 60_000, 4, 1 << 20, 1 << 20));
        List<RawClient> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                RawClient c = new RawClient(SocketPaths.readOnlyOf(socket));
                c.write(new byte[] {0, 0, 1, 0, 0x20, 0, (byte) 0x80, (byte) 0x86});
                idle.add(c);
            }
            // all 300 are held open by their clients; the server keeps 5 at most and serves a normal client
            awaitAccepted(5);
            assertServed();
            assertTrue(server.loop().admission().anonymousCount() <= 5, "" + server.loop().admission().anonymousCount());
            assertEquals(0, server.loop().budget().used(), "half-frames hold only their own 4 KiB");
        } finally {
            for (RawClient c : idle) {
                c.close();
            }
        }
        awaitBudgetFree();
    }

    @Test
    void maxClientsAndPerUidRefuseConnectOpen() throws Exception {
        start(limits(3, 2, 20, 60_000, 4, 1 << 20, 1 << 20));
        try (RawClient a = new RawClient(socket); RawClient b = new RawClient(socket);
             RawClient c = new RawClient(socket)) {
            assertEquals(Packet.OK, a.open().status());
            assertEquals(Packet.OK, b.open().status());
            Packet refused = c.open();
            assertEquals(Packet.ERROR, refused.status());
            assertTrue(RawClient.errorMessage(refused).contains("max_clients_per_uid"), RawClient.errorMessage(refused));
            assertTrue(c.closedByServerWithin(Duration.ofSeconds(5)), "dropped once told why");
        }
        // gone with their sockets: room again
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.loop().admission().openedCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        try (RawClient a = new RawClient(socket)) {
            assertEquals(Packet.OK, a.open().status());
        }
    }

    @Test
    void aClientThatNeverReadsItsRepliesIsDropped() throws Exception {
        start(limits(10, 10, 20, 60_000, 4, 4 << 20, 256 << 10));
        try (RawClient c = new RawClient(SocketPaths.readOnlyOf(socket))) {
            c.open();
            byte[] dumpxml = RawClient.call(Proc.DOMAIN_GET_XML_DESC, 0, domainArg());
            boolean dropped = false;
            try {
                for (int i = 0; i < 20_000; i++) {
                    c.write(dumpxml);
                }
            } catch (IOException broken) {
                dropped = true;
            }
            assertTrue(dropped || c.closedByServerWithin(Duration.ofSeconds(10)), "a client that reads nothing is dropped");
        }
        assertServed();
        awaitBudgetFree();
    }

    /** remote_nonnull_domain of alpha. */
    private byte[] domainArg() {
        XdrOut out = new XdrOut();
        Dispatcher.writeDomain(out, fake.lookup("alpha").orElseThrow());
        return out.toByteArray();
    }

    @Test
    void atMostMaxClientRequestsAreReadAheadOfTheirAnswers() throws Exception {
        // a connection whose workers never run: it reads max_client_requests calls, then waits
        List<Runnable> parked = new ArrayList<>();
        InlineServer host = new InlineServer(Limits.DEFAULTS, parked::add);
        FrameReaderTest.Feed feed = new FrameReaderTest.Feed();
        for (int i = 0; i < 10; i++) {
            feed.add(RawClient.call(Proc.AUTH_LIST, i, new byte[0]));
        }
        ClientConnection c = new ClientConnection(channel(feed), "u", true, fake, new Dispatcher(fake, () -> "h"), host, 0);
        c.onReadable();
        assertEquals(5, c.framesRead(), "max_client_requests");
        assertFalse(c.wantsRead());
        assertEquals(1, parked.size(), "one worker task for the connection");
        parked.remove(0).run();
        assertTrue(c.wantsRead());
        assertTrue(host.interestChanges.get() > 0, "the I/O thread is told to read again");
        c.onReadable();
        assertEquals(10, c.framesRead());
    }

    @Test
    void oneTurnOfTheIoThreadReadsAFewFramesOnly() throws Exception {
        InlineServer host = new InlineServer(Limits.DEFAULTS, Runnable::run);
        FrameReaderTest.Feed feed = new FrameReaderTest.Feed();
        for (int i = 0; i < 100; i++) {
            feed.add(new Packet(Packet.KEEPALIVE_PROGRAM, 1, Proc.KEEPALIVE_PING, Packet.MESSAGE, 0, Packet.OK, new byte[0]).encode());
        }
        ClientConnection c = new ClientConnection(channel(feed), "u", true, fake, new Dispatcher(fake, () -> "h"), host, 0);
        c.onReadable();
        assertEquals(ClientConnection.FRAMES_PER_TURN, c.framesRead(), "the other connections get their turn");
        assertTrue(c.wantsRead());
    }

    @Test
    void noMoreThanMaxWorkersRunCalls() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        DomainDriver slow = intercept(fake, "list", () -> {
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                release.await(30, TimeUnit.SECONDS);
            } finally {
                running.decrementAndGet();
            }
            return null;
        });
        start(limits(20, 20, 20, 60_000, 2, 1 << 20, 1 << 20), slow, ch -> PeerCredentials.user(ch).orElse("?"));
        ExecutorService clients = Executors.newFixedThreadPool(6);
        try {
            List<Future<Integer>> counts = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                counts.add(clients.submit(() -> {
                    try (RawClient c = new RawClient(socket)) {
                        c.open();
                        return c.countDomains();
                    }
                }));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (running.get() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            Thread.sleep(300);
            assertEquals(2, running.get(), "two calls run (max_workers 2), the other four wait");
            release.countDown();
            for (Future<Integer> f : counts) {
                assertEquals(1, f.get(30, TimeUnit.SECONDS));
            }
        } finally {
            release.countDown();
            clients.shutdownNow();
        }
        assertEquals(2, most.get());
        assertTrue(server.loop().largestWorkerCount() <= 2);
    }

    @Test
    void anErrorInOneConnectionEndsThatConnectionOnly() throws Exception {
        AtomicBoolean fail = new AtomicBoolean(true);
        DomainDriver driver = intercept(fake, "list", () -> {
            if (fail.getAndSet(false)) {
                throw new OutOfMemoryError("simulated, in one connection's call");
            }
            return null;
        });
        start(Limits.DEFAULTS, driver, ch -> PeerCredentials.user(ch).orElse("?"));
        try (RawClient victim = new RawClient(socket)) {
            victim.open();
            victim.write(RawClient.call(Proc.CONNECT_LIST_ALL_DOMAINS, 50, new XdrOut().writeInt(0).writeInt(0).toByteArray()));
            assertTrue(victim.closedByServerWithin(Duration.ofSeconds(5)));
        }
        assertServed();
        awaitBudgetFree();
    }

    @Test
    void anErrorAtAcceptIsLoggedAndAcceptingGoesOn() throws Exception {
        AtomicInteger accepts = new AtomicInteger();
        start(Limits.DEFAULTS, fake, ch -> {
            if (accepts.incrementAndGet() == 1) {
                throw new OutOfMemoryError("simulated, at accept");
            }
            return PeerCredentials.user(ch).orElse("?");
        });
        try (RawClient first = new RawClient(socket)) {
            assertTrue(first.closedByServerWithin(Duration.ofSeconds(5)));
        }
        assertServed();
    }

    @Test
    void manyPartialFramesStayWithinTheBudget() throws Exception {
        start(limits(100, 100, 100, 60_000, 4, 256 << 10, 1 << 20));
        List<RawClient> greedy = new ArrayList<>();
        try {
            byte[] piece = new byte[60_000];
            for (int i = 0; i < 30; i++) {
                RawClient c = new RawClient(SocketPaths.readOnlyOf(socket));
                c.open();
                c.write(ByteBuffer.allocate(4).putInt(Limits.DEFAULTS.maxMessageBytes()).array());
                try {
                    c.write(piece);
                } catch (IOException dropped) {
                    // over the budget: dropped, as it should be
                }
                greedy.add(c);
            }
            Thread.sleep(300);
            assertTrue(server.loop().budget().used() <= 256 << 10, "budget " + server.loop().budget().used());
            assertServed();
        } finally {
            for (RawClient c : greedy) {
                c.close();
            }
        }
        awaitBudgetFree();
    }

    /** A client's side that sends what {@code feed} holds and reads whatever the server writes. */
    private static ByteChannel channel(FrameReaderTest.Feed feed) {
        return new ByteChannel() {
            public int read(ByteBuffer dst) {
                return feed.read(dst);
            }

            public int write(ByteBuffer src) {
                int n = src.remaining();
                src.position(src.limit());
                return n;
            }

            public boolean isOpen() {
                return true;
            }

            public void close() {
            }
        };
    }

    /** The driver with one method replaced (returning null from {@code body} means: then call the real one). */
    static DomainDriver intercept(DomainDriver real, String method, java.util.concurrent.Callable<Object> body) {
        return (DomainDriver) Proxy.newProxyInstance(DomainDriver.class.getClassLoader(), new Class<?>[] {DomainDriver.class},
                (proxy, m, args) -> {
                    if (m.getName().equals(method)) {
                        Object r = body.call();
                        if (r != null) {
                            return r;
                        }
                    }
                    try {
                        return m.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
