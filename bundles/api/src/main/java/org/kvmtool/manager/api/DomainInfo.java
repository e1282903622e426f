package org.kvmtool.manager.api;

import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * A snapshot of one domain, cheap to take (no IPC, no file reads).
 *
 * @param id          libvirt-style id while active (assigned at start, never reused by the manager), -1 when inactive
 * @param pid         lkvm's pid, -1 when inactive
 * @param consolePath the pty slave, null when inactive
 * @param startedAtMillis wall-clock start time, 0 when inactive
 * @param vcpuThreadIds the kvm-vcpu-N thread ids, empty when inactive
 */
public record DomainInfo(String name, UUID uuid, int id, DomainState state, StateReason reason,
                         boolean persistent, boolean autostart, long pid, int vcpus,
                         long maxMemoryBytes, long currentMemoryBytes, String consolePath,
                         long startedAtMillis, List<Long> vcpuThreadIds) {
    public DomainInfo {
        vcpuThreadIds = List.copyOf(vcpuThreadIds);
    }

    public boolean isActive() {
        return state.isActive();
    }

    /** What this domain may do now, by its state and persistence ({@link Operation}'s table), in the enum's order. */
    public Set<Operation> allowedOperations() {
        return Operation.allowed(state, persistent);
    }
}
