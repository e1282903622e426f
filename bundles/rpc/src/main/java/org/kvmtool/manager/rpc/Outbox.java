package org.kvmtool.manager.rpc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayDeque;

/**
 * The frames on their way to one client, written without blocking: by whoever queues one while nothing is
 * waiting, else by the server's I/O thread when the socket takes more. So neither the driver's event thread
 * nor a console thread ever waits for a slow client. The queue holds at most {@code maxQueued} bytes
 * (max_client_queue_bytes; one frame of any size fits an empty queue); a client that lets it fill is not
 * reading, and its connection is dropped. The first {@link #OWN_BYTES} queued are the connection's own
 * (replies are small: bounded by the number of connections), the rest comes from the shared
 * {@link MemoryBudget}, so clients that fill the budget still leave room for everybody's small replies.
 */
final class Outbox {
    static final int OWN_BYTES = 16 * 1024;

    private final long maxQueued;
    private final MemoryBudget budget;
    private ArrayDeque<ByteBuffer> frames;
    private long queued;
    private boolean ending;

    Outbox(long maxQueued, MemoryBudget budget) {
        this.maxQueued = maxQueued;
        this.budget = budget;
    }

    /** Queues a frame; false when the client is over its share or the server's budget is spent. */
    synchronized boolean add(byte[] frame) {
        if (queued > 0 && queued + frame.length > maxQueued
                || !budget.tryAcquire(charge(queued + frame.length) - charge(queued))) {
            return false;
        }
        if (frames == null) {
            frames = new ArrayDeque<>();
        }
        frames.addLast(ByteBuffer.wrap(frame));
        queued += frame.length;
        return true;
    }

    /** Writes what the channel takes now. True when nothing is left to write. */
    synchronized boolean flush(WritableByteChannel channel) throws IOException {
        while (frames != null && !frames.isEmpty()) {
            ByteBuffer b = frames.peekFirst();
            channel.write(b);
            if (b.hasRemaining()) {
                return false;
            }
            frames.removeFirst();
            budget.release(charge(queued) - charge(queued - b.capacity()));
            queued -= b.capacity();
        }
        frames = null; // an idle client holds no queue
        return true;
    }

    private static long charge(long queuedBytes) {
        return Math.max(0, queuedBytes - OWN_BYTES);
    }

    synchronized boolean isEmpty() {
        return queued == 0;
    }

    /** The connection ends once what is queued now is written (CONNECT_CLOSE, a refused CONNECT_OPEN). */
    synchronized void endWhenWritten() {
        ending = true;
    }

    synchronized boolean isEnding() {
        return ending;
    }

    /** Drops what is queued (the connection ends) and gives its bytes back to the budget. */
    synchronized void clear() {
        budget.release(charge(queued));
        queued = 0;
        frames = null;
    }
}
