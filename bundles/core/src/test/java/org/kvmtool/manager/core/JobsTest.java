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

    @Test
    void closeWaitsForTheRunningJobThenRefusesNewOnes() throws Exception {
        DomainObject d = domain("vm1");
        CountDownLatch inJob = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean finished = new AtomicBoolean();
        Thread start = new Thread(() -> jobs.run(d, "start", () -> {
            inJob.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            finished.set(true);
        }));
        start.start();
        assertTrue(inJob.await(5, TimeUnit.SECONDS));
        Thread releaser = new Thread(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            release.countDown();
        });
        releaser.start();
        assertEquals(0, jobs.close(Duration.ofSeconds(10)));
        assertTrue(finished.get(), "close returned only once the start had finished");
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> jobs.run(domain("vm2"), "start", () -> { }));
        assertEquals(ErrorCode.OPERATION_INVALID, e.code());
        assertTrue(e.getMessage().startsWith("the manager is stopping"), e.getMessage());
        start.join();
        releaser.join();
    }

    @Test
    void aJobWaitingForTheSlotWhenCloseBeginsIsRefusedOnceItGetsIt() throws Exception {
        DomainObject d = domain("vm1");
        CountDownLatch inJob = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = new Thread(() -> jobs.run(d, "start", () -> {
            inJob.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        holder.start();
        assertTrue(inJob.await(5, TimeUnit.SECONDS));
        AtomicBoolean ran = new AtomicBoolean();
        KvmtoolException[] refused = new KvmtoolException[1];
        Thread waiter = new Thread(() -> {
            try {
                jobs.run(d, "destroy", () -> ran.set(true));
            } catch (KvmtoolException e) {
                refused[0] = e;
            }
        });
        waiter.start();
        Thread.sleep(100); // the waiter queues for the slot
        new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            release.countDown();
        }).start();
        assertEquals(0, jobs.close(Duration.ofSeconds(10)));
        waiter.join();
        assertEquals(false, ran.get());
        assertEquals(ErrorCode.OPERATION_INVALID, refused[0].code());
    }

    @Test
    void closeGivesUpAfterItsWaitAndSaysHowManyAreLeft() throws Exception {
        DomainObject d = domain("vm1");
        CountDownLatch inJob = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread stuck = new Thread(() -> jobs.run(d, "start", () -> {
            inJob.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        stuck.start();
        assertTrue(inJob.await(5, TimeUnit.SECONDS));
        assertEquals(1, jobs.close(Duration.ofMillis(100)));
        release.countDown();
        stuck.join();
    }
}
