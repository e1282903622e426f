package org.kvmtool.manager.core;

import org.kvmtool.manager.api.StateReason;

/**
 * What a status file found at activation means: a pure function of what was recorded and what is there
 * now. A process that ended while the manager was away is judged by what it left: kvmtool removes its
 * socket on a normal end and leaves it after a signal.
 */
final class ReattachPolicy {
    /** ADOPT: the recorded lkvm is alive; otherwise the shutoff reason it ended with. */
    record Decision(boolean adopt, StateReason shutoffReason) {
        static final Decision ADOPT = new Decision(true, null);
    }

    private ReattachPolicy() {
    }

    /**
     * {@code startCompleted} is false for a start the manager did not see through: its lkvm, if it ever ran,
     * is adopted all the same; if it is gone the start failed (the helper ends before exec when the manager dies).
     */
    static Decision decide(boolean alive, boolean stopRequested, boolean socketLeft, boolean startCompleted) {
        if (alive) {
            return Decision.ADOPT;
        }
        if (stopRequested) {
            return new Decision(false, StateReason.DESTROYED);
        }
        if (!startCompleted) {
            return new Decision(false, StateReason.FAILED);
        }
        return new Decision(false, socketLeft ? StateReason.CRASHED : StateReason.SHUTDOWN);
    }
}
