package org.kvmtool.manager.contract;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A pseudo terminal whose slave becomes lkvm's stdin and stdout (the arrangement of a terminal); the test
 * keeps the master and reads everything the guest writes into a transcript.
 */
final class Pty implements AutoCloseable {
    private final int master;
    private final int slave;
    private final String slavePath;
    private final ByteArrayOutputStream transcript = new ByteArrayOutputStream();

    Pty() throws IOException {
        master = Posix.openpt();
        slavePath = Posix.ptsname(master);
        // held open for the pty's life: the master never sees a hang-up, and output is not post-processed
        slave = Posix.open(slavePath, Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC);
        Posix.makeRaw(slave);
    }

    String slavePath() {
        return slavePath;
    }

    void write(String s) throws IOException {
        Posix.writeAll(master, s.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Everything read so far, as ISO-8859-1 (one char per byte). */
    synchronized String transcript() {
        return transcript.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads until the transcript contains text or the timeout passes; returns whether it does. */
    boolean await(String text, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!transcript().contains(text)) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            if (!pump((int) Math.min(left, 100))) {
                return transcript().contains(text);
            }
        }
        return true;
    }

    /** Reads until the transcript holds at least n bytes or the timeout passes; returns whether it does. */
    boolean awaitBytes(long n, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (size() < n) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0 || !pump((int) Math.min(left, 100))) {
                return size() >= n;
            }
        }
        return true;
    }

    private synchronized int size() {
        return transcript.size();
    }

    /** Reads for the given time (or until end of input) into the transcript. */
    void drain(Duration time) throws IOException {
        long deadline = System.nanoTime() + time.toNanos();
        long left;
        while ((left = (deadline - System.nanoTime()) / 1_000_000) > 0) {
            if (!pump((int) left)) {
                return;
            }
        }
    }

    private boolean pump(int timeoutMillis) throws IOException {
        byte[] got = Posix.readSome(master, timeoutMillis);
        if (got == null) {
            return false;
        }
        synchronized (this) {
            transcript.write(got, 0, got.length);
        }
        return true;
    }

    @Override
    public void close() {
        Posix.close(slave);
        Posix.close(master);
    }
}
