package org.kvmtool.manager.rpc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Supplier;

/**
 * The frames on their way to one client, and the writer that owns the socket's output, so that neither the
 * driver's event thread nor the console thread ever blocks on a slow client.
 */
final class Outbox {
    private static final int QUEUE = 4096;
    private static final Supplier<byte[]> CLOSE = () -> null;

    private final BlockingQueue<Supplier<byte[]>> queue = new ArrayBlockingQueue<>(QUEUE);

    /** Queues a frame, or a frame to be made by the writer; false when the queue is full. */
    boolean offer(Supplier<byte[]> item) {
        return queue.offer(item);
    }

    /** Queues the end: the writer stops after what is queued before it. */
    void offerEnd() {
        queue.offer(CLOSE);
    }

    /** Drops what is queued and ends the writer. */
    void clear() {
        queue.clear();
        queue.offer(CLOSE);
    }

    /** The writer's loop: writes each frame in order until the end is queued. */
    void writeAll(WritableByteChannel channel) throws IOException, InterruptedException {
        while (true) {
            byte[] frame = queue.take().get();
            if (frame == null) {
                return;
            }
            ByteBuffer b = ByteBuffer.wrap(frame);
            while (b.hasRemaining()) {
                channel.write(b);
            }
        }
    }
}
