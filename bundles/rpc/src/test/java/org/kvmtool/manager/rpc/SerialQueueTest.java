package org.kvmtool.manager.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** One connection's work: in order, one at a time, and an Error in it ends only its connection. */
class SerialQueueTest {
    @Test
    void tasksRunInOrderOneAtATimeOnSharedWorkers() throws Exception {
        ExecutorService workers = Executors.newFixedThreadPool(4);
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        SerialQueue q = new SerialQueue(workers, 10_000, t -> { });
        for (int i = 0; i < 1000; i++) {
            int n = i;
            q.execute(() -> {
                most.accumulateAndGet(running.incrementAndGet(), Math::max);
                order.add(n);
                running.decrementAndGet();
            });
        }
        workers.shutdown();
        assertTrue(workers.awaitTermination(10, TimeUnit.SECONDS));
        assertEquals(1000, order.size());
        for (int i = 0; i < 1000; i++) {
            assertEquals(i, order.get(i));
        }
        assertEquals(1, most.get());
    }

    @Test
    void anErrorGoesToTheConnectionAndTheQueueGoesOn() {
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<String> ran = new ArrayList<>();
        SerialQueue q = new SerialQueue(Runnable::run, 10, failures::add);
        q.execute(() -> {
            throw new OutOfMemoryError("simulated");
        });
        q.execute(() -> ran.add("after"));
        assertEquals(1, failures.size());
        assertTrue(failures.get(0) instanceof OutOfMemoryError);
        assertEquals(List.of("after"), ran);
    }

    @Test
    void tooMuchWaitingWorkIsRefused() {
        List<Runnable> parked = new ArrayList<>();
        SerialQueue q = new SerialQueue(parked::add, 3, t -> { });
        q.execute(() -> { });
        q.execute(() -> { });
        q.execute(() -> { });
        assertThrows(RejectedExecutionException.class, () -> q.execute(() -> { }));
        assertEquals(1, parked.size(), "one worker task drains the whole queue");
    }
}
