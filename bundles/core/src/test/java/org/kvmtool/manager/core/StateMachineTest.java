package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.DomainEvent;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LifecycleEvent;
import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.StateReason;
import org.kvmtool.manager.core.fakes.FakeCodec;

class StateMachineTest {
    /** The expected table, written out independently of the implementation: from -> reasons it may go to. */
    private static Set<StateReason> expected(DomainState from) {
        return switch (from) {
            case SHUTOFF -> EnumSet.of(StateReason.BOOTED, StateReason.FAILED, StateReason.DESTROYED);
            case RUNNING -> EnumSet.of(StateReason.PAUSED_USER, StateReason.SHUTDOWN_USER, StateReason.SHUTDOWN,
                    StateReason.DESTROYED, StateReason.CRASHED);
            case PAUSED -> EnumSet.of(StateReason.UNPAUSED, StateReason.SHUTDOWN, StateReason.DESTROYED, StateReason.CRASHED);
            case SHUTDOWN -> EnumSet.of(StateReason.SHUTDOWN, StateReason.DESTROYED, StateReason.CRASHED);
        };
    }

    @Test
    void everyPairIsLegalExactlyWhenTheTableSaysSo() {
        int pairs = 0;
        for (DomainState from : DomainState.values()) {
            for (StateReason to : StateReason.values()) {
                assertEquals(expected(from).contains(to), StateMachine.isLegal(from, to), from + " -> " + to);
                pairs++;
            }
        }
        assertEquals(DomainState.values().length * StateReason.values().length, pairs);
    }

    @Test
    void unknownReasonsAreNeverTargets() {
        for (DomainState from : DomainState.values()) {
            for (StateReason r : List.of(StateReason.RUNNING_UNKNOWN, StateReason.PAUSED_UNKNOWN, StateReason.SHUTOFF_UNKNOWN)) {
                assertTrue(!StateMachine.isLegal(from, r), from + " -> " + r);
            }
        }
    }

    @Test
    void eventsUseLibvirtsDetailWords() {
        for (StateReason r : StateReason.values()) {
            LifecycleEvent e = StateMachine.eventOf(r);
            assertTrue(e.detailCode(StateMachine.detailOf(r)) >= 0, r + " -> " + e + " " + StateMachine.detailOf(r));
        }
        assertEquals("stopped crashed", StateMachine.eventOf(StateReason.CRASHED).word() + " " + StateMachine.detailOf(StateReason.CRASHED));
        assertEquals(LifecycleEvent.RESUMED, StateMachine.eventOf(StateReason.UNPAUSED));
    }

    /** A keeper over a status directory, and the events it published. */
    private record Kept(StatusStore store, List<DomainEvent> seen, EventDispatcher events, StateKeeper keeper) {
    }

    private static Kept kept(Path dir) {
        StatusStore store = new StatusStore(dir, new AtomicFile(AtomicFile.REAL));
        List<DomainEvent> seen = new CopyOnWriteArrayList<>();
        EventDispatcher events = new EventDispatcher(null, Clock.systemUTC());
        events.addListener(seen::add);
        return new Kept(store, seen, events, new StateKeeper(store, events));
    }

    /** The keeper, over every pair: legal ones change, persist and publish; illegal ones change nothing. */
    @Test
    void keeperAppliesPersistsAndPublishesEveryLegalPairAndRefusesTheRest(@TempDir Path dir) throws Exception {
        Kept k = kept(dir);
        StatusStore store = k.store();
        List<DomainEvent> seen = k.seen();
        EventDispatcher events = k.events();
        StateKeeper keeper = k.keeper();
        FakeCodec codec = new FakeCodec();
        var def = codec.parse(FakeCodec.xml("vm"));
        int published = 0;
        for (DomainState from : DomainState.values()) {
            for (StateReason to : StateReason.values()) {
                DomainObject d = new DomainObject("vm", def.uuid(), Clock.systemUTC());
                StateReason start = switch (from) {
                    case SHUTOFF -> StateReason.SHUTOFF_UNKNOWN;
                    case RUNNING -> StateReason.BOOTED;
                    case PAUSED -> StateReason.PAUSED_USER;
                    case SHUTDOWN -> StateReason.SHUTDOWN_USER;
                };
                keeper.load(d, start);
                DomainRun run = new DomainRun(1, def, codec.format(def), dir.resolve("h").toString(), dir.resolve("s").toString());
                run.process = new ProcessIdentity(42, 7, List.of("lkvm"));
                d.setRun(run);
                Files.deleteIfExists(store.path("vm"));
                if (StateMachine.isLegal(from, to)) {
                    keeper.transition(d, to);
                    published++;
                    assertEquals(to, d.reason());
                    assertEquals(to.state().isActive(), Files.exists(store.path("vm")), "status file after " + from + " -> " + to);
                    if (to.state().isActive()) {
                        assertEquals(to, StatusStore.parse(Files.readString(store.path("vm"))).reason());
                    }
                } else {
                    KvmtoolException e = assertThrows(KvmtoolException.class, () -> keeper.transition(d, to));
                    assertEquals(ErrorCode.INTERNAL_ERROR, e.code());
                    assertEquals(start, d.reason(), "unchanged after a refused " + from + " -> " + to);
                }
            }
        }
        int expectedCount = published;
        Fixture.await("events", () -> seen.size() == expectedCount);
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i).sequence() > seen.get(i - 1).sequence(), "in order");
        }
        events.close();
    }

    @Test
    void aShutoffTransitionDeletesTheStatus(@TempDir Path dir) {
        StatusStore store = new StatusStore(dir, new AtomicFile(AtomicFile.REAL));
        EventDispatcher events = new EventDispatcher(null, Clock.systemUTC());
        StateKeeper keeper = new StateKeeper(store, events);
        FakeCodec codec = new FakeCodec();
        var def = codec.parse(FakeCodec.xml("vm"));
        DomainObject d = new DomainObject("vm", def.uuid(), Clock.systemUTC());
        DomainRun run = new DomainRun(1, def, codec.format(def), "/h", "/s");
        run.process = new ProcessIdentity(42, 7, List.of("lkvm"));
        d.setRun(run);
        keeper.transition(d, StateReason.BOOTED);
        assertTrue(Files.exists(store.path("vm")));
        d.setRun(null);
        keeper.transition(d, StateReason.CRASHED);
        assertTrue(!Files.exists(store.path("vm")));
        events.close();
    }

    /** Activation's two writes: neither is a move of the guest, so neither publishes nor writes a file. */
    @Test
    void loadingAndCorrectingPublishNothingAndACorrectionNeverEndsADomain(@TempDir Path dir) throws Exception {
        Kept k = kept(dir);
        DomainObject d = new DomainObject("vm", java.util.UUID.randomUUID(), Clock.systemUTC());
        k.keeper().load(d, StateReason.PAUSED_USER);
        assertEquals(StateReason.PAUSED_USER, d.reason());
        k.keeper().corrected(d, StateReason.RUNNING_UNKNOWN);
        assertEquals(StateReason.RUNNING_UNKNOWN, d.reason());
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> k.keeper().corrected(d, StateReason.CRASHED));
        assertEquals(ErrorCode.INTERNAL_ERROR, e.code());
        assertEquals(StateReason.RUNNING_UNKNOWN, d.reason());
        // a transition after them is published: had they published, it would not be the first event
        k.keeper().transition(d, StateReason.PAUSED_USER);
        Fixture.await("the transition's event", () -> !k.seen().isEmpty());
        assertEquals(1, k.seen().size());
        assertEquals(LifecycleEvent.SUSPENDED, k.seen().get(0).event());
        assertTrue(!Files.exists(k.store().path("vm")), "no file: the domain has no run");
        k.events().close();
    }

    @Test
    void jobWaitsBoundedAndNamesTheHolder() throws Exception {
        DomainJob job = new DomainJob("vm", Clock.systemUTC());
        job.begin(JobKind.START, Duration.ofSeconds(1));
        Thread other = new Thread(() -> {
            KvmtoolException e = assertThrows(KvmtoolException.class, () -> job.begin(JobKind.SUSPEND, Duration.ofMillis(100)));
            assertEquals(ErrorCode.OPERATION_TIMEOUT, e.code());
            assertTrue(e.getMessage().contains("job 'start' holds it"), e.getMessage());
        });
        other.start();
        other.join();
        job.end();
        job.begin(JobKind.SUSPEND, Duration.ofMillis(100));
        job.end();
    }
}
