package org.kvmtool.manager.console;

import org.kvmtool.manager.api.ConsoleListener;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A listener that keeps everything it is given, for assertions. */
class Collector implements ConsoleListener {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final CountDownLatch displaced = new CountDownLatch(1);

    @Override
    public synchronized void output(byte[] data) {
        bytes.writeBytes(data);
        notifyAll();
    }

    @Override
    public void closed() {
        closed.countDown();
    }

    @Override
    public void displaced() {
        displaced.countDown();
    }

    boolean awaitDisplaced(Duration timeout) throws InterruptedException {
        return displaced.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    synchronized byte[] bytes() {
        return bytes.toByteArray();
    }

    synchronized String text() {
        return bytes.toString(StandardCharsets.ISO_8859_1);
    }

    /** Waits until the output contains {@code s}; returns whether it did in time. */
    synchronized boolean await(String s, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!text().contains(s)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    synchronized boolean awaitBytes(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (bytes.size() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    boolean awaitClosed(Duration timeout) throws InterruptedException {
        return closed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean isClosed() {
        return closed.getCount() == 0;
    }
}
