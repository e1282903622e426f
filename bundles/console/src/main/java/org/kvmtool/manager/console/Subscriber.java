package org.kvmtool.manager.console;

import org.kvmtool.manager.api.ConsoleListener;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * One listener's outbox. The drain thread only queues bytes here and publishes them once per burst; a
 * delivery thread calls the listener, one call at a time and in order. A listener that falls more than {@code limit} bytes behind is detached
 * (it gets {@link ConsoleListener#closed()}): a slow reader must never make the guest wait, and the log
 * still has everything.
 */
final class Subscriber implements Runnable {
    /** Queued chunks (pty reads are at most 4 KiB) are joined into calls of up to this size. */
    private static final int MAX_CALL_BYTES = 64 * 1024;

    private final ConsoleListener listener;
    private final Executor executor;
    private final long limit;
    private final Consumer<String> onDetach;
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private long queued;
    private boolean scheduled;
    private boolean ending;
    private boolean displaced; // ending because a forced attach took the console: tell displaced(), not closed()
    private boolean closedSent;
    private boolean cancelled;

    /** @param onDetach told why, when this subscriber is detached for being slow or failing */
    Subscriber(ConsoleListener listener, Executor executor, long limit, Consumer<String> onDetach) {
        this.listener = listener;
        this.executor = executor;
        this.limit = limit;
        this.onDetach = onDetach;
    }

    /** Queues output (drain thread); delivered after the next {@link #publish()}. Never blocks. */
    void offer(byte[] data) {
        String overflow;
        synchronized (this) {
            if (ending || cancelled) {
                return;
            }
            if (queued + data.length <= limit) {
                queue.add(data);
                queued += data.length;
                return;
            }
            overflow = "fell more than " + limit + " bytes behind";
            queue.clear();
            queued = 0;
            ending = true;
        }
        onDetach.accept(overflow);
        publish();
    }

    /**
     * Hands what is queued to a delivery thread (drain thread, once per burst rather than per 4 KiB read:
     * waking a thread costs more than the read).
     */
    void publish() {
        synchronized (this) {
            if (cancelled || (queue.isEmpty() && !ending) || !schedule()) {
                return;
            }
        }
        submit();
    }

    /** The console ended: the listener gets closed() after the output already queued. Idempotent. */
    void end() {
        end(false);
    }

    /** Another session took the console over: displaced() after the output already queued, then nothing. */
    void displace() {
        end(true);
    }

    private void end(boolean displace) {
        synchronized (this) {
            if (ending || cancelled) {
                return;
            }
            ending = true;
            displaced = displace;
            if (!schedule()) {
                return;
            }
        }
        submit();
    }

    /** Detached by its owner: no more calls at all. */
    synchronized void cancel() {
        cancelled = true;
        queue.clear();
        queued = 0;
    }

    /** Marks a delivery run as due; true if the caller must submit it (none was pending). */
    private boolean schedule() {
        if (scheduled) {
            return false;
        }
        scheduled = true;
        return true;
    }

    private void submit() {
        try {
            executor.execute(this);
        } catch (RejectedExecutionException e) { // the service is shutting down
            synchronized (this) {
                scheduled = false;
            }
        }
    }

    @Override
    public void run() {
        while (true) {
            byte[] chunk;
            synchronized (this) {
                if (cancelled || (queue.isEmpty() && (!ending || closedSent))) {
                    scheduled = false;
                    return;
                }
                if (queue.isEmpty()) {
                    closedSent = true;
                    chunk = null;
                } else {
                    chunk = take();
                }
            }
            try {
                if (chunk == null && displaced) {
                    listener.displaced();
                } else if (chunk == null) {
                    listener.closed();
                } else {
                    listener.output(chunk);
                }
            } catch (RuntimeException e) {
                cancel();
                onDetach.accept("failed: " + e);
            }
        }
    }

    private byte[] take() {
        byte[] first = queue.poll();
        if (queue.isEmpty() || first.length >= MAX_CALL_BYTES) {
            queued -= first.length;
            return first;
        }
        int len = first.length;
        int count = 1;
        for (byte[] next : queue) {
            if (len + next.length > MAX_CALL_BYTES) {
                break;
            }
            len += next.length;
            count++;
        }
        byte[] joined = new byte[len];
        System.arraycopy(first, 0, joined, 0, first.length);
        int at = first.length;
        for (int i = 1; i < count; i++) {
            byte[] next = queue.poll();
            System.arraycopy(next, 0, joined, at, next.length);
            at += next.length;
        }
        queued -= len;
        return joined;
    }
}
