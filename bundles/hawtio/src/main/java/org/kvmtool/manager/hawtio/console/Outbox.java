package org.kvmtool.manager.hawtio.console;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * A WebSocket's console output, in order, one asynchronous send at a time. The console service calls its
 * readers on a couple of shared delivery threads that must never block, so output is only queued here; what
 * waits is bounded ({@code limit} bytes), and a browser that falls that far behind is let go ({@code overflow})
 * instead of holding the output in memory. The guest is never held up either way: the console service drains
 * it, and its log keeps everything. Each chunk is one frame: the console service already joins what queued up
 * for a reader into calls of up to 64 KiB.
 */
final class Outbox {
    /** An asynchronous binary send; {@code done} gets null on success, else the failure. */
    interface Sink {
        void send(ByteBuffer data, Consumer<Throwable> done);
    }

    private final Sink sink;
    private final long limit;
    private final Runnable overflow;
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private long queued;
    private boolean sending;
    private boolean closed;
    private Runnable then; // runs once everything queued before finish() is sent

    Outbox(Sink sink, long limit, Runnable overflow) {
        this.sink = sink;
        this.limit = limit;
        this.overflow = overflow;
    }

    /** Queues output; never blocks. */
    void offer(byte[] data) {
        boolean over;
        synchronized (this) {
            if (closed || then != null || data.length == 0) {
                return;
            }
            over = queued + data.length > limit;
            if (over) {
                closed = true;
                queue.clear();
                queued = 0;
            } else {
                queue.add(data);
                queued += data.length;
                if (sending) {
                    return;
                }
                sending = true;
            }
        }
        if (over) {
            overflow.run();
        } else {
            pump();
        }
    }

    /** After what is queued has gone out, {@code last} runs (once); nothing more is taken. */
    void finish(Runnable last) {
        synchronized (this) {
            if (closed || then != null) {
                return;
            }
            then = last;
            if (sending) {
                return; // the send under way runs it when the queue is empty
            }
            sending = true;
        }
        pump();
    }

    /** Drops what is queued and takes nothing more (the socket is gone). */
    synchronized void close() {
        closed = true;
        queue.clear();
        queued = 0;
    }

    synchronized boolean closed() {
        return closed;
    }

    synchronized long queuedBytes() {
        return queued;
    }

    /**
     * Sends the next chunk, or runs the finisher once the queue is empty. A completion that comes back on the
     * caller's thread recurses, once per chunk queued meanwhile.
     */
    private void pump() {
        byte[] chunk;
        Runnable last = null;
        synchronized (this) {
            if (closed || queue.isEmpty()) {
                sending = false;
                if (!closed && then != null) {
                    last = then;
                    closed = true;
                }
                chunk = null;
            } else {
                chunk = take();
            }
        }
        if (chunk == null) {
            if (last != null) {
                last.run();
            }
            return;
        }
        sink.send(ByteBuffer.wrap(chunk), failure -> {
            if (failure != null) {
                close();
                synchronized (this) {
                    sending = false;
                }
            } else {
                pump();
            }
        });
    }

    private byte[] take() {
        byte[] next = queue.poll();
        queued -= next.length;
        return next;
    }
}
