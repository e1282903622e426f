package org.kvmtool.manager.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** A client's queue: bounded per client and by the server's budget, written as far as the socket takes. */
class OutboxTest {
    /** Takes at most {@code perWrite} bytes per write, as a full socket buffer does. */
    static final class Slow implements WritableByteChannel {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        int perWrite;

        Slow(int perWrite) {
            this.perWrite = perWrite;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = Math.min(perWrite, src.remaining());
            got.write(src.array(), src.position(), n);
            src.position(src.position() + n);
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

    private static final int OWN = Outbox.OWN_BYTES;

    @Test
    void aClientThatDoesNotReadFillsItsShareAndNoMore() {
        MemoryBudget budget = new MemoryBudget(1 << 20);
        Outbox box = new Outbox(OWN + 1000, budget);
        assertTrue(box.add(new byte[OWN + 600]));
        assertTrue(box.add(new byte[400]));
        assertFalse(box.add(new byte[1]), "over max_client_queue_bytes");
        assertEquals(1000, budget.used(), "the first 16 KiB are the connection's own, the rest the budget's");
        box.clear();
        assertEquals(0, budget.used());
        assertTrue(box.isEmpty());
    }

    @Test
    void oneFrameLargerThanTheShareFitsAnEmptyQueue() {
        Outbox box = new Outbox(1000, new MemoryBudget(1 << 20));
        assertTrue(box.add(new byte[OWN + 5000]), "a large reply must still go out");
        assertFalse(box.add(new byte[10]));
    }

    @Test
    void theServersBudgetBoundsEveryClientTogether() {
        MemoryBudget budget = new MemoryBudget(1500);
        Outbox a = new Outbox(1 << 20, budget);
        Outbox b = new Outbox(1 << 20, budget);
        assertTrue(a.add(new byte[OWN + 1000]));
        assertFalse(b.add(new byte[OWN + 600]), "max_buffer_bytes reached");
        assertTrue(b.add(new byte[OWN + 500]));
        assertTrue(b.add(new byte[0]));
        Outbox c = new Outbox(1 << 20, budget);
        assertTrue(c.add(new byte[OWN]), "small replies need nothing from a spent budget");
    }

    @Test
    void framesGoOutInOrderAsFarAsTheSocketTakes() throws Exception {
        MemoryBudget budget = new MemoryBudget(1 << 20);
        Outbox box = new Outbox(1 << 20, budget);
        byte[] one = new byte[OWN + 5];
        Arrays.fill(one, (byte) 1);
        byte[] two = {6, 7, 8};
        box.add(one);
        box.add(two);
        assertEquals(8, budget.used());
        Slow socket = new Slow(OWN + 3);
        assertFalse(box.flush(socket));
        assertEquals(8, budget.used(), "a frame's bytes are held until it is written whole");
        assertTrue(box.flush(socket));
        assertEquals(0, budget.used());
        byte[] got = socket.got.toByteArray();
        assertEquals(OWN + 8, got.length);
        assertArrayEquals(two, Arrays.copyOfRange(got, OWN + 5, OWN + 8));
        assertTrue(box.isEmpty());
    }
}
