package org.kvmtool.manager.hawtio.console;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

/** The outbox against a sink whose sends complete when the test says, as a slow browser's would. */
class OutboxTest {
    private final ArrayDeque<Consumer<Throwable>> pending = new ArrayDeque<>();
    private final List<byte[]> sent = new ArrayList<>();
    private int overflows;

    private Outbox outbox(long limit) {
        return new Outbox((data, done) -> {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            sent.add(b);
            pending.add(done);
        }, limit, () -> overflows++);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private String all() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        sent.forEach(out::writeBytes);
        return out.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void oneSendAtATimeInOrder() {
        Outbox o = outbox(1 << 20);
        o.offer(ascii("a"));
        o.offer(ascii("b"));
        o.offer(ascii("c"));
        assertEquals(1, sent.size(), "the second send waits for the first");
        assertEquals(2, o.queuedBytes());
        pending.poll().accept(null);
        assertEquals(2, sent.size());
        assertArrayEquals(ascii("b"), sent.get(1));
        pending.poll().accept(null);
        pending.poll().accept(null);
        assertEquals("abc", all());
        assertTrue(pending.isEmpty());
        assertEquals(0, o.queuedBytes());
        o.offer(ascii("d"));
        assertEquals("abcd", all(), "idle again: sent at once");
    }

    @Test
    void aReaderFallingTooFarBehindIsLetGoOnce() {
        Outbox o = outbox(10);
        o.offer(ascii("12345"));       // in flight, not queued
        o.offer(ascii("6789012345"));  // 10 queued: the limit
        assertEquals(0, overflows);
        o.offer(ascii("x"));
        assertEquals(1, overflows);
        assertTrue(o.closed());
        o.offer(ascii("y"));
        assertEquals(1, overflows, "told once");
        pending.poll().accept(null);
        assertEquals("12345", all(), "nothing more goes out");
    }

    @Test
    void finishRunsAfterWhatWasQueuedAndTakesNothingMore() {
        Outbox o = outbox(1 << 20);
        List<String> events = new ArrayList<>();
        o.offer(ascii("last words"));
        o.finish(() -> events.add("closed after " + all()));
        o.offer(ascii("late"));
        assertTrue(events.isEmpty(), "not before the output under way has gone");
        pending.poll().accept(null);
        assertEquals(List.of("closed after last words"), events);
        o.finish(() -> events.add("again"));
        assertEquals(1, events.size(), "once");

        Outbox idle = outbox(100);
        idle.finish(() -> events.add("idle"));
        assertEquals("idle", events.get(1), "nothing queued: at once");
    }

    @Test
    void aFailedSendStopsTheOutbox() {
        Outbox o = outbox(100);
        o.offer(ascii("a"));
        o.offer(ascii("b"));
        pending.poll().accept(new RuntimeException("broken pipe"));
        assertTrue(o.closed());
        assertEquals(1, sent.size());
        o.offer(ascii("c"));
        assertEquals(1, sent.size());
        assertFalse(pending.iterator().hasNext());
        assertEquals(0, overflows, "a broken socket is not a slow reader");
        assertEquals(ByteBuffer.wrap(ascii("a")), ByteBuffer.wrap(sent.get(0)));
    }
}
