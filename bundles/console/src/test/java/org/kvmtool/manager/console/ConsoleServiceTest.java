package org.kvmtool.manager.console;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ConsoleAttachment;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The console service against real ptys held by real processes ({@link FakeGuest}). */
class ConsoleServiceTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final ConsoleServiceImpl.Settings DEFAULTS =
            new ConsoleServiceImpl.Settings(64 * 1024, 2000, 8L << 20, 2, Path.of("/proc"));

    @TempDir
    Path tmp;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    ConsoleServiceImpl service(ConsoleServiceImpl.Settings settings) {
        ConsoleServiceImpl s = new ConsoleServiceImpl(settings);
        cleanup.add(s::deactivate);
        return s;
    }

    Guest guest(ConsoleServiceImpl consoles, String... options) {
        Guest g = Guest.fake(consoles, tmp, options);
        cleanup.add(g);
        return g;
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static void await(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    static long size(Path p) {
        try {
            return Files.exists(p) ? Files.size(p) : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path rotated(Path log) {
        return log.resolveSibling(log.getFileName() + ".1");
    }

    /** The rotated log then the current one: the latest output, in order. */
    static byte[] logged(Path log) throws IOException {
        byte[] old = Files.exists(rotated(log)) ? Files.readAllBytes(rotated(log)) : new byte[0];
        byte[] cur = Files.exists(log) ? Files.readAllBytes(log) : new byte[0];
        byte[] all = Arrays.copyOf(old, old.length + cur.length);
        System.arraycopy(cur, 0, all, old.length, cur.length);
        return all;
    }

    static String tailText(ConsoleServiceImpl consoles, String domain) {
        return new String(consoles.tail(domain, 1 << 20), StandardCharsets.ISO_8859_1);
    }

    static void assertSameBytes(byte[] expected, byte[] actual) {
        assertEquals(expected.length, actual.length, "byte count");
        int mismatch = Arrays.mismatch(expected, actual);
        assertEquals(-1, mismatch, "first differing byte at offset " + mismatch);
    }

    @Test
    void bannerEchoAndPoweroff() throws Exception {
        ConsoleServiceImpl consoles = service(DEFAULTS);
        Guest g = guest(consoles);
        Path log = tmp.resolve("logs/a.log");
        consoles.open("a", g.slavePath, g.pid(), log.toString(), 1 << 20);
        assertTrue(consoles.isOpen("a"));
        Collector reader = new Collector();
        consoles.subscribe("a", reader);

        await("banner", () -> tailText(consoles, "a").contains(FakeGuest.BANNER), WAIT);
        consoles.write("a", ascii("hello"));
        assertTrue(reader.await("hello", WAIT), "echo: " + reader.text());

        consoles.write("a", ascii("q"));
        assertTrue(reader.awaitClosed(WAIT), "closed() after the guest ended");
        assertEquals(OptionalInt.of(0), g.process.waitFor(WAIT));
        assertEquals(FakeGuest.BANNER + "hello" + FakeGuest.POWEROFF, tailText(consoles, "a"));
        assertEquals(FakeGuest.BANNER + "hello" + FakeGuest.POWEROFF, Files.readString(log));
        assertFalse(consoles.isOpen("a"));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> consoles.write("a", ascii("x")));
        assertEquals(ErrorCode.OPERATION_INVALID, e.code());
        assertEquals("console of 'a' is not open", e.getMessage());
    }

    @Test
    void outputWrittenWhileNobodyHeldTheSlaveIsDelivered() throws Exception {
        ConsoleServiceImpl consoles = service(DEFAULTS);
        Path ready = tmp.resolve("ready");
        Guest g = guest(consoles, "--ready", ready.toString());
        await("the guest's banner write", () -> Files.exists(ready), WAIT);
        Thread.sleep(200); // the banner sits in the pty, nobody has the slave open

        Path log = tmp.resolve("b.log");
        consoles.open("b", g.slavePath, g.pid(), log.toString(), 1 << 20);
        await("banner", () -> size(log) == FakeGuest.BANNER.length(), WAIT);
        assertEquals(FakeGuest.BANNER, Files.readString(log));
        assertEquals(FakeGuest.BANNER, tailText(consoles, "b"));
    }

    @Test
    void floodOfTenMebibytesIsLoggedCompletelyWhileTheGuestNeverWaitsForAReader() throws Exception {
        int n = 10 << 20;
        // Readers may fall 1 MiB behind: the stuck one below is detached, the guest must not notice it.
        ConsoleServiceImpl consoles = service(new ConsoleServiceImpl.Settings(64 * 1024, 2000, 1 << 20, 2, Path.of("/proc")));
        Path report = tmp.resolve("report");
        Guest g = guest(consoles, "--flood", Integer.toString(n), "--report", report.toString());
        Path log = tmp.resolve("flood.log");
        long maxLog = 8 << 20;
        consoles.open("f", g.slavePath, g.pid(), log.toString(), maxLog);
        await("banner", () -> tailText(consoles, "f").contains(FakeGuest.BANNER), WAIT);

        CountDownLatch release = new CountDownLatch(1);
        Collector stuck = new Collector() {
            @Override
            public synchronized void output(byte[] data) {
                super.output(data);
                try {
                    release.await(); // a listener that blocks for the whole flood
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        consoles.subscribe("f", stuck);

        consoles.write("f", ascii("f"));
        await("the guest's flood to finish", () -> Files.exists(report) && size(report) > 0, Duration.ofSeconds(120));
        byte[] expected = FakeGuest.floodStream(n);
        await("the whole flood in the log", () -> size(rotated(log)) + size(log) >= expected.length, WAIT);
        release.countDown();

        assertEquals(maxLog, size(rotated(log)), "rotated exactly at the limit");
        assertSameBytes(expected, logged(log));
        byte[] tail = consoles.tail("f", 64 * 1024);
        assertSameBytes(Arrays.copyOfRange(expected, expected.length - tail.length, expected.length), tail);
        assertEquals(64 * 1024, tail.length);
        assertTrue(stuck.awaitClosed(WAIT), "the stuck reader was detached");
        assertTrue(consoles.isOpen("f"), "the console itself goes on");
        long tookNanos = Long.parseLong(Files.readString(report).trim());
        System.out.printf("flood: the guest wrote %d MiB in %.0f ms (%.1f MiB/s) with a stuck reader attached%n",
                n >> 20, tookNanos / 1e6, n / 1048576.0 / (tookNanos / 1e9));
    }

    @Test
    void whatTheGuestWroteJustBeforeItEndedIsNotLost() throws Exception {
        // When the last master closes, the kernel discards what the slave has not read yet. So: hold the
        // drain thread up (console A's log is a FIFO nobody reads: a stalled disk), let guest B write its
        // last 10,000 bytes and end meanwhile, then let the disk come back. The console holds its own
        // reference to B's master, so it still drains B to the end before the pty goes.
        ConsoleServiceImpl consoles = service(DEFAULTS);
        Guest b = Guest.command(consoles, tmp, "/bin/sh", "-c", "read go; exec head -c 10000 /dev/zero");
        cleanup.add(b);
        Path logB = tmp.resolve("b.log");
        consoles.open("b", b.slavePath, b.pid(), logB.toString(), 0);
        Collector readerB = new Collector();
        consoles.subscribe("b", readerB);

        int nA = 400_000; // more than the FIFO, the log buffer and the pty can hold together
        Path fifo = tmp.resolve("a.log");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        CountDownLatch diskBack = new CountDownLatch(1);
        CompletableFuture<byte[]> loggedA = CompletableFuture.supplyAsync(() -> {
            try (var in = Files.newInputStream(fifo)) {
                diskBack.await();
                return in.readAllBytes(); // to EOF: console A closed its log
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            Guest a = Guest.command(consoles, tmp, "/usr/bin/head", "-c", Integer.toString(nA), "/dev/zero");
            cleanup.add(a);
            consoles.open("a", a.slavePath, a.pid(), fifo.toString(), 0);
            Collector readerA = new Collector();
            consoles.subscribe("a", readerA);
            awaitStall("the drain thread to stall on A's log", readerA, a.process); // the FIFO is full

            consoles.write("b", ascii("go\n")); // writes go straight to the slave, not through the drain thread
            assertEquals(OptionalInt.of(0), b.process.waitFor(WAIT), "B wrote everything and ended");
            Thread.sleep(100);
            assertEquals(0, size(logB), "nothing of B was read yet");
            assertTrue(a.process.isAlive(), "A waits for its output to be read");
        } finally {
            diskBack.countDown();
        }
        assertTrue(readerB.awaitClosed(WAIT));
        assertSameBytes(new byte[10_000], Files.readAllBytes(logB));
        assertSameBytes(new byte[nA], loggedA.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    }

    /** Waits until a reader of a guest that never stops writing gets nothing more for half a second. */
    static void awaitStall(String what, Collector reader, Child writer) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        int last = -1;
        while (true) {
            assertTrue(writer.isAlive(), "the writer is still writing");
            int now = reader.bytes().length;
            if (now == last) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what + " (" + now + " bytes read)");
            }
            last = now;
            Thread.sleep(500);
        }
    }

    @Test
    void withoutAnOwnerTheEndIsSeenAsAHangup() throws Exception {
        ConsoleServiceImpl consoles = service(DEFAULTS);
        Guest g = guest(consoles);
        consoles.open("h", g.slavePath, 0, tmp.resolve("h.log").toString(), 0);
        Collector reader = new Collector();
        consoles.subscribe("h", reader);
        await("banner", () -> tailText(consoles, "h").contains(FakeGuest.BANNER), WAIT);
        g.process.signal(9);
        assertTrue(reader.awaitClosed(WAIT), "closed() on the hangup");
        assertFalse(consoles.isOpen("h"));
    }

    @Test
    void twoReadersSeeTheSameBytes() throws Exception {
        int n = 1 << 20;
        ConsoleServiceImpl consoles = service(DEFAULTS);
        Guest g = guest(consoles, "--flood", Integer.toString(n));
        consoles.open("r", g.slavePath, g.pid(), tmp.resolve("r.log").toString(), 0);
        await("banner", () -> tailText(consoles, "r").contains(FakeGuest.BANNER), WAIT);
        Collector one = new Collector();
        Collector two = new Collector();
        consoles.subscribe("r", one);
        ConsoleAttachment session = consoles.attach("r", false, two);
        cleanup.add(session);

        session.write(ascii("f"));
        byte[] stream = FakeGuest.floodStream(n);
        byte[] expected = Arrays.copyOfRange(stream, FakeGuest.BANNER.length(), stream.length);
        assertTrue(one.awaitBytes(expected.length, WAIT));
        assertTrue(two.awaitBytes(expected.length, WAIT));
        assertSameBytes(expected, one.bytes());
        assertSameBytes(expected, two.bytes());
    }

    @Test
    void aNewServiceInstanceReopensTheRecordedSlaveAndLosesNothing() throws Exception {
        int n = 4 << 20;
        ConsoleServiceImpl first = new ConsoleServiceImpl(DEFAULTS);
        Guest g = guest(first, "--flood", Integer.toString(n));
        Path log = tmp.resolve("restart.log");
        first.open("x", g.slavePath, g.pid(), log.toString(), 0);
        Collector before = new Collector();
        first.subscribe("x", before);
        first.write("x", ascii("f"));
        await("part of the flood", () -> size(log) > 256 * 1024, WAIT);
        first.deactivate(); // the manager goes away in the middle of the flood
        assertTrue(before.awaitClosed(WAIT), "readers are told the console closed");
        long loggedByFirst = size(log);
        assertTrue(loggedByFirst < FakeGuest.floodStream(n).length, "the flood outlasted the first instance");

        Thread.sleep(300); // the guest fills the pty and waits; nothing is read meanwhile
        assertTrue(g.process.isAlive(), "closing the slave does not hurt the guest");
        assertEquals(loggedByFirst, size(log));

        ConsoleServiceImpl second = service(DEFAULTS);
        second.open("x", g.slavePath, g.pid(), log.toString(), 0);
        byte[] expected = FakeGuest.floodStream(n);
        await("the rest of the flood", () -> size(log) >= expected.length, WAIT);
        assertSameBytes(expected, Files.readAllBytes(log));

        Collector after = new Collector();
        second.subscribe("x", after);
        second.write("x", ascii("echo"));
        assertTrue(after.await("echo", WAIT), "input works after the reattach");
        second.write("x", ascii("q"));
        assertTrue(after.awaitClosed(WAIT));
        assertEquals(OptionalInt.of(0), g.process.waitFor(WAIT));
    }

    @Test
    void theLogRotatesAtTheLimitAndKeepsOneOldFile() throws Exception {
        int n = 5000;
        ConsoleServiceImpl consoles = service(DEFAULTS);
        Guest g = guest(consoles, "--flood", Integer.toString(n));
        Path log = tmp.resolve("rot.log");
        int max = 1000;
        consoles.open("l", g.slavePath, g.pid(), log.toString(), max);
        consoles.write("l", ascii("f"));
        byte[] all = FakeGuest.floodStream(n);
        int rotations = (all.length - 1) / max; // a file is rotated only when more output comes
        await("the whole flood", () -> size(log) == all.length - (long) rotations * max, WAIT);
        assertArrayEquals(Arrays.copyOfRange(all, (rotations - 1) * max, rotations * max), Files.readAllBytes(rotated(log)));
        assertArrayEquals(Arrays.copyOfRange(all, rotations * max, all.length), Files.readAllBytes(log));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(log)));

        // A reopened console continues the same file and rotation counts what is already there.
        consoles.close("l");
        consoles.open("l", g.slavePath, g.pid(), log.toString(), max);
        consoles.write("l", ascii("0123456789"));
        long left = all.length - (long) rotations * max + 10;
        long expectedSize = left <= max ? left : left - max;
        await("echo appended", () -> size(log) == expectedSize, WAIT);
        assertTrue(new String(logged(log), StandardCharsets.US_ASCII).endsWith("FLOOD END\r\n0123456789"));
    }

    @Test
    void aConsoleIsRefusedUnlessTheOwnerHoldsItsMaster() throws Exception {
        ConsoleServiceImpl consoles = service(DEFAULTS);
        Guest a = guest(consoles);
        Guest b = guest(consoles);
        String log = tmp.resolve("o.log").toString();
        long fdsBefore = openDescriptors();

        KvmtoolException wrongGuest = assertThrows(KvmtoolException.class, () -> consoles.open("o", a.slavePath, b.pid(), log, 0));
        assertEquals(ErrorCode.SYSTEM_ERROR, wrongGuest.code());
        assertTrue(wrongGuest.getMessage().contains("process " + b.pid() + " holds " + b.slavePath), wrongGuest.getMessage());

        long self = ProcessHandle.current().pid();
        KvmtoolException notAGuest = assertThrows(KvmtoolException.class, () -> consoles.open("o", a.slavePath, self, log, 0));
        assertEquals(ErrorCode.SYSTEM_ERROR, notAGuest.code());
        assertTrue(notAGuest.getMessage().contains("not a pty master"), notAGuest.getMessage());

        KvmtoolException gone = assertThrows(KvmtoolException.class, () -> consoles.open("o", a.slavePath, Integer.MAX_VALUE, log, 0));
        assertTrue(gone.getMessage().contains("does not exist"), gone.getMessage());

        assertFalse(consoles.isOpen("o"));
        assertEquals(fdsBefore, openDescriptors(), "a refused open leaks no descriptor");

        consoles.open("o", a.slavePath, a.pid(), log, 0);
        assertTrue(consoles.isOpen("o"));
    }

    /**
     * The descriptors a console could leak (ptys and pidfds); counting every descriptor would also count
     * what other threads of the test JVM open meanwhile (class loading, JIT, surefire's own channels).
     */
    static long openDescriptors() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    return "";
                }
            }).filter(t -> t.startsWith("/dev/pts/") || t.equals("/dev/ptmx") || t.contains("pidfd")).count();
        }
    }

    @Test
    void oneWriterAtATimeAndForceTakesOver() throws Exception {
        ConsoleServiceImpl consoles = service(DEFAULTS);
        Guest g = guest(consoles);
        consoles.open("w", g.slavePath, g.pid(), tmp.resolve("w.log").toString(), 0);
        Collector ca = new Collector();
        ConsoleAttachment a = consoles.attach("w", false, ca);
        cleanup.add(a);
        assertTrue(a.isWriter());

        KvmtoolException refused = assertThrows(KvmtoolException.class, () -> consoles.attach("w", false, new Collector()));
        assertEquals(ErrorCode.OPERATION_INVALID, refused.code());
        assertEquals("console of 'w' is in use by another session", refused.getMessage());
        KvmtoolException jmxRefused = assertThrows(KvmtoolException.class, () -> consoles.write("w", ascii("x")));
        assertEquals("console of 'w' is in use by another session", jmxRefused.getMessage());

        a.write(ascii("from-a "));
        assertTrue(ca.await("from-a ", WAIT));

        Collector cb = new Collector();
        ConsoleAttachment b = consoles.attach("w", true, cb);
        cleanup.add(b);
        assertTrue(b.isWriter());
        assertFalse(a.isWriter());
        // as virsh console --force: the displaced session is told and detached, not left reading
        assertTrue(ca.awaitDisplaced(WAIT), "the displaced session is told");
        assertFalse(ca.isClosed(), "displaced, not closed: the console goes on");
        KvmtoolException taken = assertThrows(KvmtoolException.class, () -> a.write(ascii("x")));
        assertEquals(ErrorCode.OPERATION_INVALID, taken.code());

        b.write(ascii("from-b"));
        assertTrue(cb.await("from-b", WAIT));
        assertFalse(cb.text().contains("from-a"), "a session sees output from its attach on");
        assertFalse(ca.text().contains("from-b"), "the displaced session reads no more: " + ca.text());

        a.close(); // closing the displaced session must not free b's slot
        assertTrue(b.isWriter());
        b.close();
        b.close();
        consoles.write("w", ascii("free"));
        await("echo after the slot is free", () -> tailText(consoles, "w").endsWith("free"), WAIT);
        assertFalse(ca.text().contains("free"), "a detached session gets no more output");
    }

    @Test
    void attachWithHistoryJoinsTheLiveOutputLosingAndRepeatingNothing() throws Exception {
        int n = 16 << 20;
        int history = 16 * 1024;
        ConsoleServiceImpl consoles = service(DEFAULTS);
        Guest g = guest(consoles, "--flood", Integer.toString(n));
        consoles.open("j", g.slavePath, g.pid(), tmp.resolve("j.log").toString(), 0);
        await("banner", () -> tailText(consoles, "j").contains(FakeGuest.BANNER), WAIT);
        consoles.write("j", ascii("f"));
        await("the flood under way", () -> tailText(consoles, "j").contains(FakeGuest.FLOOD_BEGIN), WAIT);
        Collector joined = new Collector();
        ConsoleAttachment session = consoles.attach("j", false, history, joined);
        cleanup.add(session);

        assertTrue(joined.await(FakeGuest.FLOOD_END, Duration.ofSeconds(60)), "the flood's end arrives");
        byte[] stream = FakeGuest.floodStream(n);
        byte[] got = joined.bytes();
        assertTrue(got.length > history, "attached while the flood ran: " + got.length + " bytes");
        // history and live output are one contiguous end of the stream: a byte lost or repeated at the
        // junction would shift the numbered lines
        assertSameBytes(Arrays.copyOfRange(stream, stream.length - got.length, stream.length), got);
    }

    @Test
    void aGuestThatDoesNotReadMakesWritesTimeOutWithoutSpinning() throws Exception {
        ConsoleServiceImpl consoles = service(new ConsoleServiceImpl.Settings(64 * 1024, 1000, 8L << 20, 2, Path.of("/proc")));
        Guest g = guest(consoles, "--deaf");
        consoles.open("d", g.slavePath, g.pid(), tmp.resolve("d.log").toString(), 0);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> consoles.write("d", new byte[1 << 20]));
        long wallMs = (System.nanoTime() - t0) / 1_000_000;
        long cpuMs = (threads.getCurrentThreadCpuTime() - cpu0) / 1_000_000;
        assertEquals(ErrorCode.OPERATION_TIMEOUT, e.code());
        assertTrue(e.getMessage().startsWith("console of 'd': the guest is not reading its input ("), e.getMessage());
        assertTrue(wallMs >= 900, "waited for the timeout: " + wallMs + " ms");
        assertTrue(cpuMs < 300, "waited in poll(), not spinning: " + cpuMs + " ms of CPU in " + wallMs + " ms");
        assertTrue(consoles.isOpen("d"));
    }

    @Test
    void closeIsIdempotentLeavesTheGuestRunningAndKeepsTheTail() throws Exception {
        ConsoleServiceImpl consoles = service(DEFAULTS);
        Guest g = guest(consoles);
        consoles.open("c", g.slavePath, g.pid(), tmp.resolve("c.log").toString(), 0);
        await("banner", () -> tailText(consoles, "c").contains(FakeGuest.BANNER), WAIT);
        Collector reader = new Collector();
        consoles.subscribe("c", reader);
        consoles.close("c");
        consoles.close("c");
        consoles.close("never-opened");
        assertTrue(reader.awaitClosed(WAIT));
        assertFalse(consoles.isOpen("c"));
        assertEquals(FakeGuest.BANNER, tailText(consoles, "c"));
        Thread.sleep(100);
        assertTrue(g.process.isAlive());
        assertEquals(0, consoles.tail("never-opened", 100).length);

        consoles.open("c", g.slavePath, g.pid(), tmp.resolve("c.log").toString(), 0);
        consoles.write("c", ascii("again"));
        await("echo after reopen", () -> tailText(consoles, "c").endsWith("again"), WAIT);
    }

    /** A restarted driver opens what it recorded: the session it left open goes on, slave, ring, log and readers. */
    @Test
    void openingTheSameSlaveAgainReTakesTheOpenSession() throws Exception {
        ConsoleServiceImpl consoles = service(DEFAULTS);
        Guest g = guest(consoles);
        Path log = tmp.resolve("r.log");
        consoles.open("r", g.slavePath, g.pid(), log.toString(), 0);
        await("banner", () -> tailText(consoles, "r").contains(FakeGuest.BANNER), WAIT);
        Collector reader = new Collector();
        consoles.subscribe("r", reader);
        int slaveFd = consoles.openConsole("r").fd();

        consoles.open("r", g.slavePath, g.pid(), log.toString(), 0);
        assertEquals(slaveFd, consoles.openConsole("r").fd(), "the same slave descriptor, not a second open");
        consoles.write("r", ascii("kept"));
        assertTrue(reader.await("kept", WAIT), "a reader of before hears what comes after: " + reader.text());
        assertFalse(reader.isClosed(), "the reader was never told the console closed");
        await("logged", () -> readQuietly(log).equals(FakeGuest.BANNER + "kept"), WAIT);

        // another log file (the driver's configuration changed): a new session that writes there
        Path moved = tmp.resolve("moved/r.log");
        consoles.open("r", g.slavePath, g.pid(), moved.toString(), 0);
        assertTrue(reader.awaitClosed(WAIT));
        consoles.write("r", ascii("there"));
        await("logged in the new file", () -> readQuietly(moved).equals("there"), WAIT);
        assertEquals(FakeGuest.BANNER + "kept" + "there", tailText(consoles, "r"), "one ring throughout");
    }

    /** After an update of this bundle (or a Karaf restart) consoleLog() still shows what came before: from the log. */
    @Test
    void aNewServiceInstanceShowsTheHistoryKeptInTheLog() throws Exception {
        ConsoleServiceImpl first = new ConsoleServiceImpl(DEFAULTS);
        Guest g = guest(first);
        Path log = tmp.resolve("h.log");
        first.open("h", g.slavePath, g.pid(), log.toString(), 0);
        first.write("h", ascii("before"));
        await("echo", () -> readQuietly(log).endsWith("before"), WAIT);
        first.deactivate();

        ConsoleServiceImpl second = service(DEFAULTS);
        second.open("h", g.slavePath, g.pid(), log.toString(), 0);
        assertEquals(FakeGuest.BANNER + "before", tailText(second, "h"), "the history, before any new output");
        second.write("h", ascii("after"));
        await("echo after", () -> tailText(second, "h").equals(FakeGuest.BANNER + "before" + "after"), WAIT);
        assertEquals(FakeGuest.BANNER + "before" + "after", readQuietly(log), "the log has it once");
    }

    static String readQuietly(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void oneThreadDrainsEveryConsole() throws Exception {
        ConsoleServiceImpl consoles = service(DEFAULTS);
        long before = drainThreads();
        for (String d : List.of("t1", "t2", "t3")) {
            Guest g = guest(consoles);
            consoles.open(d, g.slavePath, g.pid(), tmp.resolve(d + ".log").toString(), 0);
        }
        for (String d : List.of("t1", "t2", "t3")) {
            consoles.write(d, ascii(d));
            await(d, () -> tailText(consoles, d).endsWith(FakeGuest.BANNER + d), WAIT);
        }
        assertEquals(List.of("t1", "t2", "t3"), consoles.openDomains());
        assertEquals(before, drainThreads(), "no thread per console");
    }

    static long drainThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("kvmtool-console-drain")).count();
    }

    @Test
    void deactivateClosesConsolesButNotGuests() throws Exception {
        ConsoleServiceImpl consoles = new ConsoleServiceImpl(DEFAULTS);
        Guest g = guest(consoles);
        consoles.open("z", g.slavePath, g.pid(), tmp.resolve("z.log").toString(), 0);
        Collector reader = new Collector();
        consoles.subscribe("z", reader);
        consoles.deactivate();
        consoles.deactivate();
        assertTrue(reader.awaitClosed(WAIT));
        assertFalse(consoles.isOpen("z"));
        Thread.sleep(100);
        assertTrue(g.process.isAlive());
        assertThrows(KvmtoolException.class, () -> consoles.open("z", g.slavePath, g.pid(), tmp.resolve("z.log").toString(), 0));
    }

    @Test
    void openingAMissingSlaveSaysWhich() {
        ConsoleServiceImpl consoles = service(DEFAULTS);
        KvmtoolException e = assertThrows(KvmtoolException.class,
                () -> consoles.open("m", "/dev/pts/987654", 0, tmp.resolve("m.log").toString(), 0));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        assertEquals("console of 'm': open(/dev/pts/987654): No such file or directory (errno 2)", e.getMessage());
    }
}
