package org.kvmtool.manager.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayDeque;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** Frame lengths are checked before any allocation, and a frame's buffer grows only with what arrives. */
class FrameReaderTest {
    private static final int MAX = Limits.DEFAULTS.maxMessageBytes();

    /** A non-blocking channel fed piece by piece: read() returns 0 when nothing is there, -1 once ended. */
    static final class Feed implements ReadableByteChannel {
        private final ArrayDeque<ByteBuffer> pieces = new ArrayDeque<>();
        private boolean ended;

        Feed add(byte[] bytes) {
            pieces.add(ByteBuffer.wrap(bytes));
            return this;
        }

        Feed end() {
            ended = true;
            return this;
        }

        @Override
        public int read(ByteBuffer dst) {
            ByteBuffer b = pieces.peek();
            if (b == null) {
                return ended ? -1 : 0;
            }
            int n = Math.min(dst.remaining(), b.remaining());
            dst.put(b.array(), b.position(), n);
            b.position(b.position() + n);
            if (!b.hasRemaining()) {
                pieces.poll();
            }
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private static byte[] length(long n) {
        return ByteBuffer.allocate(4).putInt((int) n).array();
    }

    @Test
    void aLengthOfTwoToThe31IsRefusedBeforeAnyAllocation() {
        MemoryBudget budget = new MemoryBudget(1 << 20);
        RpcException e = assertThrows(RpcException.class,
                () -> new FrameReader().read(new Feed().add(length(1L << 31)), MAX, budget));
        assertTrue(e.getMessage().contains("2147483648"), e.getMessage());
        assertEquals(0, budget.used());
    }

    @Test
    void aLengthBelowTheHeaderIsRefused() {
        MemoryBudget budget = new MemoryBudget(1 << 20);
        for (long n : new long[] {0, 4, 27}) {
            assertThrows(RpcException.class, () -> new FrameReader().read(new Feed().add(length(n)), MAX, budget));
        }
        assertEquals(0, budget.used());
    }

    @Test
    void aLengthAboveTheLimitIsRefused() {
        MemoryBudget budget = new MemoryBudget(64L << 20);
        RpcException e = assertThrows(RpcException.class,
                () -> new FrameReader().read(new Feed().add(length(MAX + 1L)), MAX, budget));
        assertTrue(e.getMessage().contains("above the limit"), e.getMessage());
        // libvirt's own maximum can never be configured away
        assertThrows(IllegalArgumentException.class, () -> new Limits(1, 1, 1, 1, 1, 1,
                Limits.PROTOCOL_MAX_FRAME + 1, 1, 1, 1));
        assertEquals(0, budget.used());
    }

    @Test
    void aFrameAnnouncedLargeHoldsOnlyWhatArrived() throws Exception {
        MemoryBudget budget = new MemoryBudget(64L << 20);
        FrameReader r = new FrameReader();
        Feed feed = new Feed().add(length(MAX)).add(new byte[100]);
        assertNull(r.read(feed, MAX, budget));
        assertEquals(FrameReader.FIRST_BUFFER, r.bufferBytes(), "4 KiB for a frame announced at " + MAX);
        assertEquals(0, budget.used(), "the first 4 KiB are the connection's own");
        // ten thousand bytes more: the buffer doubles as far as needed, no further, paid from the budget
        feed.add(new byte[10_000]);
        assertNull(r.read(feed, MAX, budget));
        assertEquals(4 * FrameReader.FIRST_BUFFER, r.bufferBytes());
        assertEquals(3 * FrameReader.FIRST_BUFFER, budget.used());
        assertEquals(budget.used(), r.held());
        r.release(budget);
        assertEquals(0, budget.used());
    }

    @Test
    void aFrameComesWholeFromPiecesAndItsBytesPassToTheCaller() throws Exception {
        MemoryBudget budget = new MemoryBudget(1 << 20);
        byte[] body = new byte[20_000];
        Arrays.fill(body, (byte) 7);
        byte[] frame = RawClient.call(Proc.CONNECT_GET_TYPE, 9, body);
        Feed feed = new Feed();
        for (int off = 0; off < frame.length; off += 333) {
            feed.add(Arrays.copyOfRange(frame, off, Math.min(frame.length, off + 333)));
        }
        FrameReader r = new FrameReader();
        byte[] whole = null;
        for (int i = 0; i < 1000 && whole == null; i++) {
            whole = r.read(feed, MAX, budget);
        }
        assertArrayEquals(frame, whole);
        assertEquals(FrameReader.charge(frame.length), budget.used(), "the caller holds the frame's charge until it is handled");
        assertEquals(0, r.held());
        feed.add(RawClient.call(Proc.CONNECT_GET_TYPE, 10, new byte[0]));
        assertEquals(10, Packet.decode(r.read(feed, MAX, budget)).serial());
    }

    @Test
    void aFrameBeyondTheBudgetIsRefusedAndHoldsNothing() throws Exception {
        MemoryBudget budget = new MemoryBudget(FrameReader.FIRST_BUFFER + 100);
        FrameReader r = new FrameReader();
        Feed feed = new Feed().add(length(MAX)).add(new byte[FrameReader.FIRST_BUFFER - 4]);
        assertNull(r.read(feed, MAX, budget));
        assertEquals(FrameReader.FIRST_BUFFER, budget.used(), "grown to 8 KiB: 4 KiB from the budget");
        feed.add(new byte[FrameReader.FIRST_BUFFER]);
        RpcException e = assertThrows(RpcException.class, () -> r.read(feed, MAX, budget));
        assertTrue(e.getMessage().contains("max_buffer_bytes"), e.getMessage());
        r.release(budget);
        assertEquals(0, budget.used());
    }

    @Test
    void endOfStreamInAFrameIsAnEof() throws Exception {
        MemoryBudget budget = new MemoryBudget(1 << 20);
        FrameReader r = new FrameReader();
        Feed feed = new Feed().add(length(100)).add(new byte[10]).end();
        assertThrows(EOFException.class, () -> r.read(feed, MAX, budget));
        r.release(budget);
        assertEquals(0, budget.used());
        assertThrows(EOFException.class, () -> new FrameReader().read(new Feed().end(), MAX, budget));
    }

    @Test
    void beforeConnectOpenOnlyLibvirtsInitialSizeIsRead() {
        assertEquals(65536 + 4, Limits.DEFAULTS.maxFrame(false));
        assertEquals(MAX, Limits.DEFAULTS.maxFrame(true));
    }
}
