package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** The drain at deactivation: running jobs finish, new ones are refused, nothing waits for ever. */
class JobsTest {
    private final DomainRegistry registry = new DomainRegistry();
    private final Jobs jobs = new Jobs(registry, Duration.ofSeconds(5));

    private DomainObject domain(String name) {
        DomainObject d = new DomainObject(name, UUID.randomUUID(), Clock.systemUTC());
        registry.add(d);
        return d;
    }

    /** Starts a thread whose "start" job holds {@code d} until {@code release}; returns once the job is held. */
    private Thread holding(DomainObject d, CountDownLatch release, AtomicBoolean finished) throws InterruptedException {
        CountDownLatch inJob = new CountDownLatch(1);
        Thread t = new Thread(() -> jobs.run(d, JobKind.START, () -> {
            inJob.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            finished.set(true);
        }));
        t.start();
        assertTrue(inJob.await(5, TimeUnit.SECONDS));
        return t;
    }

    /** Releases {@code latch} after {@code millis}, from another thread. */
    private static Thread releaseLater(CountDownLatch latch, long millis) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            latch.countDown();
        });
        t.start();
        return t;
    }

    @Test
    void closeWaitsForTheRunningJobThenRefusesNewOnes() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean finished = new AtomicBoolean();
        Thread start = holding(domain("vm1"), release, finished);
        Thread releaser = releaseLater(release, 200);
        assertEquals(0, jobs.close(Duration.ofSeconds(10)));
        assertTrue(finished.get(), "close returned only once the start had finished");
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> jobs.run(domain("vm2"), JobKind.START, () -> { }));
        assertEquals(ErrorCode.OPERATION_INVALID, e.code());
        assertTrue(e.getMessage().startsWith("the manager is stopping"), e.getMessage());
        start.join();
        releaser.join();
    }

    @Test
    void aJobWaitingForTheSlotWhenCloseBeginsIsRefusedOnceItGetsIt() throws Exception {
        DomainObject d = domain("vm1");
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = holding(d, release, new AtomicBoolean());
        AtomicBoolean ran = new AtomicBoolean();
        KvmtoolException[] refused = new KvmtoolException[1];
        Thread waiter = new Thread(() -> {
            try {
                jobs.run(d, JobKind.DESTROY, () -> ran.set(true));
            } catch (KvmtoolException e) {
                refused[0] = e;
            }
        });
        waiter.start();
        Thread.sleep(100); // the waiter queues for the slot
        Thread releaser = releaseLater(release, 100);
        assertEquals(0, jobs.close(Duration.ofSeconds(10)));
        waiter.join();
        assertEquals(false, ran.get());
        assertEquals(ErrorCode.OPERATION_INVALID, refused[0].code());
        holder.join();
        releaser.join();
    }

    @Test
    void closeGivesUpAfterItsWaitAndSaysHowManyAreLeft() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Thread stuck = holding(domain("vm1"), release, new AtomicBoolean());
        assertEquals(1, jobs.close(Duration.ofMillis(100)));
        release.countDown();
        stuck.join();
    }

    /** Destroy aborts exactly the jobs that start lkvm; the words are the ones messages have always named. */
    @Test
    void onlyTheJobsThatStartLkvmAreAbortable() {
        java.util.Set<String> abortable = new java.util.TreeSet<>();
        java.util.Set<String> words = new java.util.HashSet<>();
        for (JobKind k : JobKind.values()) {
            assertTrue(words.add(k.word()), "one word per kind: " + k.word());
            if (k.abortable()) {
                abortable.add(k.word());
            }
        }
        assertEquals(new java.util.TreeSet<>(java.util.Set.of("start", "create", "reboot", "autostart", "exit")), abortable);
    }
}
