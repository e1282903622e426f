package org.kvmtool.manager.core;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDefinition.LifecycleAction;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ExitInfo;
import org.kvmtool.manager.api.StateReason;

/**
 * What an lkvm exit means and what follows, a pure function.
 *
 * <p>kvmtool has no reboot: every guest reset (Linux reboot or poweroff, a triple fault, i8042 0xFE) ends
 * lkvm with exit 0, so a poweroff cannot be told from a reboot. The choice made here: a normal exit nobody
 * asked for is a guest <em>poweroff</em> and {@code on_poweroff} applies (libvirt's default for it is
 * destroy). {@code on_reboot} applies to reboots asked through the driver's reboot(), which stops and
 * starts in one job. A death by a signal or a non-zero exit is a crash and {@code on_crash} applies.
 * Anything the user asked to end (destroy, shutdown) is never restarted.
 */
final class LifecyclePolicy {
    record Decision(StateReason reason, boolean restart) {
    }

    private LifecyclePolicy() {
    }

    static Decision onExit(ExitInfo.Kind kind, boolean stopRequested, DomainState state, DomainDefinition def) {
        boolean normal = kind == ExitInfo.Kind.NORMAL;
        if (stopRequested) {
            return new Decision(StateReason.DESTROYED, false);
        }
        if (state == DomainState.SHUTDOWN) {
            return new Decision(normal ? StateReason.SHUTDOWN : StateReason.CRASHED, false);
        }
        if (normal) {
            return new Decision(StateReason.SHUTDOWN, def.onPoweroff() == LifecycleAction.RESTART);
        }
        return new Decision(StateReason.CRASHED, def.onCrash() == LifecycleAction.RESTART);
    }
}
