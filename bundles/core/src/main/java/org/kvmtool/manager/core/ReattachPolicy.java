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

    static Decision decide(boolean alive, boolean stopRequested, boolean socketLeft) {
        if (alive) {
            return Decision.ADOPT;
        }
        if (stopRequested) {
            return new Decision(false, StateReason.DESTROYED);
        }
        return new Decision(false, socketLeft ? StateReason.CRASHED : StateReason.SHUTDOWN);
    }
}
