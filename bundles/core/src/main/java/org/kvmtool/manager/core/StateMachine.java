package org.kvmtool.manager.core;

import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.LifecycleEvent;
import org.kvmtool.manager.api.StateReason;

/**
 * Which transitions exist and what event each one publishes: pure functions, the single table of the
 * lifecycle. The "unknown" reasons are only ever loaded (a defined domain is shutoff/unknown), never
 * transitioned to. Which operations each state admits is the api's {@link org.kvmtool.manager.api.Operation}.
 */
final class StateMachine {
    private StateMachine() {
    }

    static boolean isLegal(DomainState from, StateReason to) {
        return switch (from) {
            // start; a start rolled back before lkvm ran records shutoff/failed (or destroyed when destroy aborted it)
            case SHUTOFF -> to == StateReason.BOOTED || to == StateReason.FAILED || to == StateReason.DESTROYED;
            case RUNNING -> to == StateReason.PAUSED_USER || to == StateReason.SHUTDOWN_USER
                    || to == StateReason.SHUTDOWN || to == StateReason.DESTROYED || to == StateReason.CRASHED;
            // lkvm can end while paused too (someone ran "lkvm stop" and "lkvm resume" behind our back)
            case PAUSED -> to == StateReason.UNPAUSED || to == StateReason.SHUTDOWN || to == StateReason.DESTROYED
                    || to == StateReason.CRASHED;
            case SHUTDOWN -> to == StateReason.SHUTDOWN || to == StateReason.DESTROYED || to == StateReason.CRASHED;
        };
    }

    /**
     * The event of a legal transition. Entering {@code shutdown} publishes libvirt's SHUTDOWN "finished", the
     * event libvirt pairs with that state; leaving it publishes STOPPED with the shutoff reason.
     */
    static LifecycleEvent eventOf(StateReason to) {
        return switch (to) {
            case BOOTED, RUNNING_UNKNOWN -> LifecycleEvent.STARTED;
            case UNPAUSED -> LifecycleEvent.RESUMED;
            case PAUSED_USER, PAUSED_UNKNOWN -> LifecycleEvent.SUSPENDED;
            case SHUTDOWN_USER -> LifecycleEvent.SHUTDOWN;
            case SHUTOFF_UNKNOWN, SHUTDOWN, DESTROYED, CRASHED, FAILED -> LifecycleEvent.STOPPED;
        };
    }

    static String detailOf(StateReason to) {
        return switch (to) {
            case BOOTED, RUNNING_UNKNOWN -> "booted";
            case UNPAUSED -> "unpaused";
            case PAUSED_USER, PAUSED_UNKNOWN -> "paused";
            case SHUTDOWN_USER -> "finished";
            case SHUTOFF_UNKNOWN, SHUTDOWN -> "shutdown";
            case DESTROYED -> "destroyed";
            case CRASHED -> "crashed";
            case FAILED -> "failed";
        };
    }
}
