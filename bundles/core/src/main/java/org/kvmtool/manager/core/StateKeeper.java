package org.kvmtool.manager.core;

import java.util.logging.Logger;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LifecycleEvent;
import org.kvmtool.manager.api.StateReason;

/**
 * The single place where a domain's state changes: {@link #transition} checks the move against
 * {@link StateMachine}, applies it, persists the status file (written while active, deleted at shutoff) and
 * publishes the event. The in-memory state always follows the real guest: when the status cannot be saved
 * (full disk, read-only directory) the transition still happens, its event is still published, the previous
 * file stays intact and the caller gets a SYSTEM_ERROR saying so. A running guest is never killed for it.
 */
final class StateKeeper {
    private static final Logger LOG = Logger.getLogger(StateKeeper.class.getName());

    /** What {@link DomainObject#setReason} asks for: only this class can make one, so only it sets a state. */
    static final class Key {
        private Key() {
        }
    }

    private static final Key KEY = new Key();
    private final StatusStore store;
    private final EventDispatcher events;

    StateKeeper(StatusStore store, EventDispatcher events) {
        this.store = store;
        this.events = events;
    }

    void transition(DomainObject d, StateReason next) {
        transition(d, next, () -> { });
    }

    /** The same, with {@code alongside} applied under the monitor together with the state (one snapshot shows both). */
    void transition(DomainObject d, StateReason next, Runnable alongside) {
        StateReason from;
        synchronized (d) {
            from = d.reason();
            if (!StateMachine.isLegal(from.state(), next)) {
                throw new KvmtoolException(ErrorCode.INTERNAL_ERROR, "domain '" + d.name + "': no transition from "
                        + from.state().word() + " (" + from.word() + ") to " + next.state().word() + " (" + next.word() + ")");
            }
            d.setReason(KEY, next);
            alongside.run();
        }
        KvmtoolException unsaved = null;
        try {
            persist(d);
        } catch (KvmtoolException e) {
            unsaved = e;
        }
        events.publish(d, StateMachine.eventOf(next), StateMachine.detailOf(next), next);
        LOG.fine(() -> d.name + ": " + from.state().word() + " -> " + next.state().word() + " (" + next.word() + ")");
        if (unsaved != null) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "domain '" + d.name + "' is " + next.state().word()
                    + " but its status could not be saved: " + unsaved.getMessage(), unsaved);
        }
    }

    /**
     * Activation: the state a status file recorded. Nothing moved (this is what the domain was when the
     * last driver stopped), so no event and no write. Only while nothing else can see the domain.
     */
    void load(DomainObject d, StateReason recorded) {
        d.setReason(KEY, recorded);
    }

    /**
     * Activation: the recorded state lags behind a live lkvm (a start the last driver did not see through, a
     * pause or resume whose status write failed), so the state becomes what lkvm is. Not a move of the guest:
     * no event, and no write (the caller decides; the next activation asks lkvm again anyway). A correction
     * never ends a domain: an lkvm found ended goes through {@link #transition}.
     */
    void corrected(DomainObject d, StateReason actual) {
        if (!actual.state().isActive()) {
            throw new KvmtoolException(ErrorCode.INTERNAL_ERROR, "domain '" + d.name + "': a correction to "
                    + actual.state().word() + " (" + actual.word() + ")");
        }
        StateReason was;
        synchronized (d) {
            was = d.reason();
            d.setReason(KEY, actual);
        }
        LOG.fine(() -> d.name + ": recorded " + was.state().word() + " (" + was.word() + "), corrected to "
                + actual.state().word() + " (" + actual.word() + ")");
    }

    /** Writes the status of an active domain (or deletes it when inactive). */
    void persist(DomainObject d) {
        DomainStatus s = d.state().isActive() ? statusOf(d) : null;
        if (s == null) {
            store.delete(d.name);
        } else {
            store.write(s);
        }
    }

    /** A definition event (DEFINED, UNDEFINED): no state change, same ordered channel. */
    void publish(DomainObject d, LifecycleEvent event, String detail) {
        events.publish(d, event, detail, d.reason());
    }

    /** The status of an active domain with a spawned process, else null. */
    static DomainStatus statusOf(DomainObject d) {
        synchronized (d) {
            DomainRun r = d.run();
            StateReason reason = d.reason();
            if (r == null || r.process == null) {
                return null;
            }
            // while start is still on its way the domain is shutoff, and the file says so: a manager that finds
            // it at activation knows the start never completed (Reattacher)
            return new DomainStatus(d.name, d.uuid, r.id, r.process, r.startedAtMillis, r.ptySlave, r.cgroup,
                    r.homeDir, r.socketPath, reason, r.stopRequested, r.currentMemoryBytes, r.definitionXml);
        }
    }
}
