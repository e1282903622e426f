package org.kvmtool.manager.rpc;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes all connections together may hold in frames being read, calls waiting to run and frames waiting
 * to be written (max_buffer_bytes). A connection that cannot get its share is dropped, so that no client, and
 * no number of clients, can take the heap the driver needs.
 */
final class MemoryBudget {
    private final long max;
    private final AtomicLong used = new AtomicLong();

    MemoryBudget(long max) {
        this.max = max;
    }

    /** Takes {@code bytes} if they fit; false (and nothing taken) otherwise. */
    boolean tryAcquire(long bytes) {
        while (true) {
            long now = used.get();
            if (now + bytes > max) {
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    void release(long bytes) {
        used.addAndGet(-bytes);
    }

    long used() {
        return used.get();
    }

    long max() {
        return max;
    }
}
