package org.kvmtool.manager.core;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import org.kvmtool.manager.api.KvmtoolException;

/**
 * The contention tests' engine: threads released at once, each running its own seeded random sequence of
 * operations on the driver. It counts the outcomes and keeps what the test did not expect, with its stack.
 */
final class Stress {
    /** One random operation (the thread's own {@code Random} chooses what and on which domain). */
    interface Step {
        void run(Random random) throws Exception;
    }

    /**
     * @param outcomes   "ok" or the error code's name, and how often
     * @param unexpected each error the test did not expect, with its stack trace
     */
    record Result(Map<String, Integer> outcomes, List<String> unexpected) {
    }

    private Stress() {
    }

    /**
     * Runs {@code threads} threads (seeded 0, 1, ...) of {@code steps} steps each and waits up to {@code join}
     * for each. A KvmtoolException that {@code expected} accepts is an outcome; anything else thrown is unexpected.
     */
    static Result run(int threads, int steps, Duration join, Step step, Predicate<KvmtoolException> expected)
            throws InterruptedException {
        Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
        List<String> unexpected = new CopyOnWriteArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Random random = new Random(t);
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < steps; i++) {
                    try {
                        step.run(random);
                        outcomes.computeIfAbsent("ok", k -> new AtomicInteger()).incrementAndGet();
                    } catch (KvmtoolException e) {
                        outcomes.computeIfAbsent(e.code().name(), k -> new AtomicInteger()).incrementAndGet();
                        if (!expected.test(e)) {
                            unexpected.add(trace(e));
                        }
                    } catch (Throwable e) {
                        unexpected.add(trace(e));
                    }
                }
            }, "stress-" + t);
            started.add(th);
            th.start();
        }
        go.countDown();
        for (Thread th : started) {
            th.join(join.toMillis());
        }
        Map<String, Integer> counts = new TreeMap<>();
        outcomes.forEach((k, v) -> counts.put(k, v.get()));
        return new Result(counts, List.copyOf(unexpected));
    }

    private static String trace(Throwable e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        return w.toString();
    }
}
