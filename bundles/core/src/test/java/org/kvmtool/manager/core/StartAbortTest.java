package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.core.fakes.FakeCodec;

class StartAbortTest {
    /** {@code d}'s job held as {@code kind} by another thread until {@code release}; returns once it is held. */
    private static Thread holding(DomainObject d, JobKind kind, CountDownLatch release) throws InterruptedException {
        CountDownLatch held = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            d.job.begin(kind, Duration.ofSeconds(1));
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            d.job.end();
        });
        t.start();
        held.await();
        return t;
    }

    private static DomainObject domainWithLkvm() {
        FakeCodec codec = new FakeCodec();
        var def = codec.parse(FakeCodec.xml("vm"));
        DomainObject d = new DomainObject("vm", UUID.randomUUID(), Clock.systemUTC());
        DomainRun run = new DomainRun(1, def, codec.format(def), "/h", "/h/.lkvm/vm.sock");
        run.process = new ProcessIdentity(42, 7, List.of("lkvm"));
        d.setRun(run);
        return d;
    }

    @Test
    void aJobThatStartsLkvmIsAbortedAndItsLkvmKilled() throws Exception {
        for (JobKind kind : JobKind.values()) {
            StubSpawner spawner = new StubSpawner(true);
            DomainObject d = domainWithLkvm();
            CountDownLatch release = new CountDownLatch(1);
            Thread t = holding(d, kind, release);
            boolean aborted = new StartAbort(spawner).abortStart(d);
            assertEquals(kind.abortable(), aborted, kind.word());
            assertEquals(kind.abortable(), d.job.isAborted(), kind.word());
            assertEquals(kind.abortable() ? List.of("42:9") : List.of(), spawner.signals, kind.word());
            release.countDown();
            t.join();
        }
    }

    @Test
    void noJobNothingToAbort() {
        StubSpawner spawner = new StubSpawner(true);
        DomainObject d = domainWithLkvm();
        assertFalse(new StartAbort(spawner).abortStart(d));
        assertTrue(spawner.signals.isEmpty());
    }
}
