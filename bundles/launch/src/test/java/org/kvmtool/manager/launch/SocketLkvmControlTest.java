package org.kvmtool.manager.launch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LkvmControl.VmState;
import org.kvmtool.manager.api.ProcessIdentity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SocketLkvmControlTest {
    private static final Duration TIMEOUT = Duration.ofMillis(300);

    @TempDir
    Path home;

    private Path socket;
    private SocketLkvmControl control;
    private PosixProcessSpawner spawner;
    private PidfdExitWatcher reaper;
    private final List<AutoCloseable> closers = new ArrayList<>();
    private final List<ProcessIdentity> started = new ArrayList<>();
    private int devNull;

    @BeforeEach
    void setUp() throws IOException {
        socket = home.resolve(".lkvm/vm1.sock");
        Files.createDirectories(socket.getParent());
        control = new SocketLkvmControl(Path.of("/proc"), TIMEOUT, Duration.ofMillis(10), Duration.ofSeconds(5));
        spawner = Fixtures.spawner();
        reaper = new PidfdExitWatcher();
        devNull = Fixtures.devNull();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closers) {
            c.close();
        }
        for (ProcessIdentity p : started) {
            Fixtures.killQuietly(p);
            Fixtures.awaitGone(p.pid());
        }
        reaper.close();
        Fixtures.POSIX.close(devNull);
    }

    private FakeLkvm server(int pid, FakeLkvm.Mode mode) throws IOException {
        FakeLkvm f = new FakeLkvm(socket, pid, mode);
        closers.add(f);
        return f;
    }

    /**
     * A sleeping process that looks like a started lkvm where awaitReady looks: its (only) thread is named
     * kvm-vcpu-0, because a thread's first name is its executable's file name, here a link to sleep.
     */
    private ProcessIdentity sleeper(String seconds) {
        Path vcpu = home.resolve("kvm-vcpu-0");
        try {
            if (!Files.exists(vcpu, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(vcpu, Path.of("/bin/sleep"));
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ProcessIdentity id = spawner.spawn(Fixtures.request(List.of(vcpu.toString(), seconds), home, devNull));
        started.add(id);
        reaper.watch(id, home.resolve("unused.sock").toString(), i -> { });
        return id;
    }

    private static byte[] le(int... ints) {
        ByteBuffer b = ByteBuffer.allocate(ints.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i : ints) {
            b.putInt(i);
        }
        return b.array();
    }

    @Test
    void everyRequestRoundTripsWithKvmtoolsWireFormat() throws Exception {
        FakeLkvm lkvm = server(4242, FakeLkvm.Mode.ANSWER);
        String s = socket.toString();

        assertEquals(4242, control.pid(s));
        assertEquals(VmState.RUNNING, control.vmState(s));
        control.pause(s);
        assertEquals(VmState.PAUSED, control.vmState(s));
        control.resume(s);
        assertEquals(VmState.RUNNING, control.vmState(s));
        control.balloon(s, -64);
        control.sysrq(s, 's');
        control.nmi(s, 1);
        control.stop(s);

        // a request without reply comes after a VMSTATE on its connection (lkvm's lost-wakeup hazard)
        assertEquals(List.of(7, 8, 8, 4, 8, 8, 5, 8, 8, 1, 8, 2, 8, 2, 8, 6), lkvm.awaitRequests(16).types());
        assertArrayEquals(le(-64), lkvm.requests.get(9).payload());
        assertArrayEquals(new byte[] {4, 0, 0, 0, 0, 0, 0, 0, 's', 0, 0, 0}, lkvm.requests.get(11).payload());
        assertArrayEquals(new byte[] {2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, lkvm.requests.get(13).payload());
        assertEquals(0, lkvm.requests.get(15).payload().length);
    }

    @Test
    void statIsParsedIntoNamedValues() throws Exception {
        ByteBuffer reply = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
        reply.putShort((short) 4).putLong(1_000_000L).putShort((short) 5).putLong(64L << 20)
                .putShort((short) 42).putLong(7);
        server(1, FakeLkvm.Mode.ANSWER).statReply(reply.array());
        Map<String, Long> expected = new LinkedHashMap<>();
        expected.put("unused", 1_000_000L);
        expected.put("available", 64L << 20);
        expected.put("tag-42", 7L);
        assertEquals(expected, control.stat(socket.toString(), Duration.ofSeconds(2)));
    }

    @Test
    void statWithoutABalloonDriverTimesOutAndFreesTheServer() throws Exception {
        FakeLkvm lkvm = server(9, FakeLkvm.Mode.ANSWER);
        long t0 = System.nanoTime();
        KvmtoolException e = assertThrows(KvmtoolException.class,
                () -> control.stat(socket.toString(), Duration.ofMillis(200)));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(ErrorCode.OPERATION_TIMEOUT, e.code());
        assertTrue(ms >= 190 && ms < 1_000, ms + " ms");
        // our connection was closed, so the one-connection-at-a-time server serves the next client
        assertEquals(9, control.pid(socket.toString()));
    }

    @Test
    void aServerThatNeverAnswersCostsOneTimeout() throws Exception {
        server(1, FakeLkvm.Mode.ACCEPT_NEVER_READ);
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            KvmtoolException e = assertThrows(KvmtoolException.class, () -> control.vmState(socket.toString()));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(ErrorCode.OPERATION_TIMEOUT, e.code(), e.getMessage());
            assertTrue(ms >= TIMEOUT.toMillis() - 10 && ms < TIMEOUT.toMillis() + 700, ms + " ms");
        }
    }

    @Test
    void aServerThatNeverAcceptsNeverWedgesTheCaller() throws Exception {
        server(1, FakeLkvm.Mode.NEVER_ACCEPT);
        for (int i = 0; i < 4; i++) { // the backlog fills up: then connect itself fails
            long t0 = System.nanoTime();
            KvmtoolException e = assertThrows(KvmtoolException.class, () -> control.pid(socket.toString()));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(e.code() == ErrorCode.OPERATION_TIMEOUT || e.code() == ErrorCode.OPERATION_FAILED,
                    e.toString());
            assertTrue(ms < TIMEOUT.toMillis() + 700, ms + " ms");
        }
    }

    @Test
    void noSocketIsNotListening() {
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> control.pause(socket.toString()));
        assertEquals(ErrorCode.OPERATION_FAILED, e.code());
        assertTrue(e.getMessage().startsWith("lkvm is not listening on " + socket), e.getMessage());
    }

    @Test
    void awaitReadyRetriesARefusedSocketWhileTheProcessLives() throws Exception {
        ProcessIdentity id = sleeper("10");
        FakeLkvm.ghost(socket); // the file exists, nobody listens yet: ECONNREFUSED
        CompletableFuture<Void> later = CompletableFuture.runAsync(() -> {
            try {
                Thread.sleep(60);
                Files.delete(socket);
                server((int) id.pid(), FakeLkvm.Mode.ANSWER);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long t0 = System.nanoTime();
        assertEquals(id.pid(), control.awaitReady(socket.toString(), id, Duration.ofSeconds(5)));
        assertTrue(System.nanoTime() - t0 >= 55_000_000L);
        later.get(1, TimeUnit.SECONDS);
    }

    @Test
    void awaitReadyFailsAsSoonAsTheProcessEnds() throws Exception {
        ProcessIdentity id = sleeper("0.2");
        long t0 = System.nanoTime();
        KvmtoolException e = assertThrows(KvmtoolException.class,
                () -> control.awaitReady(socket.toString(), id, Duration.ofSeconds(10)));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(ErrorCode.OPERATION_FAILED, e.code());
        assertTrue(e.getMessage().contains("ended before its control socket answered"), e.getMessage());
        assertTrue(ms < 2_000, ms + " ms");
    }

    @Test
    void awaitReadyTimesOut() throws Exception {
        ProcessIdentity id = sleeper("10");
        KvmtoolException e = assertThrows(KvmtoolException.class,
                () -> control.awaitReady(socket.toString(), id, Duration.ofMillis(150)));
        assertEquals(ErrorCode.OPERATION_TIMEOUT, e.code());
        assertTrue(spawner.isAlive(id));
    }

    @Test
    void terminateResumesAPausedGuestThenStopsIt() throws Exception {
        ProcessIdentity id = sleeper("30");
        FakeLkvm lkvm = server((int) id.pid(), FakeLkvm.Mode.ANSWER).paused(true)
                .onStop(() -> spawner.signal(id, Posix.SIGTERM)); // lkvm ends on STOP
        long t0 = System.nanoTime();
        control.terminate(id, socket.toString(), Duration.ofSeconds(10));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(List.of(IpcWire.VMSTATE, IpcWire.VMSTATE, IpcWire.RESUME, IpcWire.VMSTATE, IpcWire.STOP),
                lkvm.awaitRequests(5).types());
        assertFalse(spawner.isAlive(id));
        assertTrue(ms < 2_000, "ended by STOP, not by the 10 s grace: " + ms + " ms");
    }

    @Test
    void terminateKillsAnLkvmThatIgnoresStop() throws Exception {
        ProcessIdentity id = sleeper("30");
        FakeLkvm lkvm = server((int) id.pid(), FakeLkvm.Mode.ANSWER);
        long t0 = System.nanoTime();
        control.terminate(id, socket.toString(), Duration.ofMillis(200));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(List.of(IpcWire.VMSTATE, IpcWire.VMSTATE, IpcWire.STOP), lkvm.awaitRequests(3).types());
        assertFalse(spawner.isAlive(id));
        assertTrue(ms >= 190 && ms < 2_000, ms + " ms");
    }

    @Test
    void terminateKillsAWedgedLkvmWithinTimeoutPlusGrace() throws Exception {
        ProcessIdentity id = sleeper("30");
        server((int) id.pid(), FakeLkvm.Mode.ACCEPT_NEVER_READ);
        long t0 = System.nanoTime();
        control.terminate(id, socket.toString(), Duration.ofSeconds(5));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertFalse(spawner.isAlive(id));
        assertTrue(ms < TIMEOUT.toMillis() + 1_000, "IPC failed, so killed at once: " + ms + " ms");
    }

    @Test
    void terminateOfAGoneProcessIsANoOp() {
        ProcessIdentity ghost = new ProcessIdentity(999_999_999L, 1, List.of("/usr/bin/lkvm"));
        control.terminate(ghost, socket.toString(), Duration.ofSeconds(1));
    }

    @Test
    void gracefulShutdownSendsSysrqSUB() throws Exception {
        FakeLkvm lkvm = server(1, FakeLkvm.Mode.ANSWER);
        List<Integer> kicksBeforeEachKey = new java.util.concurrent.CopyOnWriteArrayList<>();
        control.gracefulShutdown(socket.toString(), () -> kicksBeforeEachKey.add(lkvm.requests.size()));
        List<FakeLkvm.Request> debug = lkvm.awaitRequests(9).requests.stream()
                .filter(r -> r.type() == IpcWire.DEBUG).toList();
        assertEquals(List.of("s", "u", "b"), debug.stream().map(r -> String.valueOf((char) r.payload()[8])).toList());
        debug.forEach(r -> assertEquals(IpcWire.DEBUG_SYSRQ, r.payload()[0]));
        // each key: VMSTATE + DEBUG on one connection, then a VMSTATE that proves lkvm took the key, then the byte
        assertEquals(List.of(3, 6, 9), kicksBeforeEachKey, "a console byte follows each key, once lkvm has it");
    }
}
