package org.kvmtool.manager.core;

import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.StateReason;

/**
 * One domain as the driver holds it: its persistent definition (null when transient), its state and
 * reason, and its current run. The monitor of this object guards these fields for short reads and writes
 * only; it is never held across I/O, IPC or a process wait (see THREADING.md).
 */
final class DomainObject {
    final String name;
    final UUID uuid;
    final DomainJob job;
    private DomainDefinition persistent;
    /** A transient domain's definition while it has no run: before its first, and after its last until it is dropped. */
    private DomainDefinition transientDefinition;
    private boolean autostart;
    private StateReason reason = StateReason.SHUTOFF_UNKNOWN;
    private DomainRun run;
    private boolean removed;

    DomainObject(String name, UUID uuid, Clock clock) {
        this.name = name;
        this.uuid = uuid;
        this.job = new DomainJob(name, clock);
    }

    synchronized DomainDefinition persistentDefinition() {
        return persistent;
    }

    synchronized void setPersistentDefinition(DomainDefinition def) {
        if (def == null && transientDefinition == null) {
            // undefined: lookups until the drop (listeners of the event, racing clients) still see its definition
            transientDefinition = persistent;
        }
        this.persistent = def;
    }

    synchronized void setTransientDefinition(DomainDefinition def) {
        this.transientDefinition = def;
    }

    synchronized boolean isPersistent() {
        return persistent != null;
    }

    synchronized boolean autostart() {
        return autostart;
    }

    synchronized void setAutostart(boolean on) {
        this.autostart = on;
    }

    synchronized StateReason reason() {
        return reason;
    }

    synchronized DomainState state() {
        return reason.state();
    }

    /** Only {@link StateKeeper} changes the state: only it can make the key. */
    synchronized void setReason(StateKeeper.Key key, StateReason r) {
        Objects.requireNonNull(key, "only StateKeeper changes the state");
        this.reason = Objects.requireNonNull(r, "reason");
    }

    synchronized DomainRun run() {
        return run;
    }

    synchronized void setRun(DomainRun r) {
        if (r == null && run != null) {
            transientDefinition = run.definition;
        }
        this.run = r;
    }

    synchronized boolean isRemoved() {
        return removed;
    }

    synchronized void markRemoved() {
        this.removed = true;
    }

    /** The definition in effect now: the live one while a run exists, else the persistent one. */
    synchronized DomainDefinition effectiveDefinition() {
        return run != null ? run.definition : persistent != null ? persistent : transientDefinition;
    }

    synchronized DomainInfo info() {
        DomainDefinition def = effectiveDefinition();
        boolean active = reason.state().isActive() && run != null;
        return new DomainInfo(name, uuid, active ? run.id : -1, reason.state(), reason, persistent != null, autostart,
                active ? run.pid() : -1, def.vcpus(), def.maxMemoryBytes(),
                active ? run.currentMemoryBytes : def.currentMemoryBytes(), active ? run.ptySlave : null,
                active ? run.startedAtMillis : 0, active ? run.vcpuThreadIds : List.of());
    }
}
