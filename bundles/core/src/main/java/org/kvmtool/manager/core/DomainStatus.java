package org.kvmtool.manager.core;

import java.util.Objects;
import java.util.UUID;

import org.kvmtool.manager.api.CgroupRef;
import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.StateReason;

/**
 * What the status file of an active domain records: enough to recognise its lkvm after a manager restart
 * (identity), to reopen its console and cgroup, and to tell the truth about how it ended.
 *
 * @param process        pid, start time and argv of lkvm
 * @param ptySlave       the console's pty slave path
 * @param cgroup         its cgroup, null when cgroups were not usable
 * @param stopRequested  true once destroy was asked: a death after that is "destroyed", not "crashed"
 * @param currentMemoryBytes the live balloon target
 * @param definitionXml  the definition lkvm was started with (canonical XML): the live config
 */
record DomainStatus(String name, UUID uuid, int id, ProcessIdentity process, long startedAtMillis, String ptySlave,
                    CgroupRef cgroup, String homeDir, String socketPath, StateReason reason, boolean stopRequested,
                    long currentMemoryBytes, String definitionXml) {
    DomainStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(process, "process");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(definitionXml, "definitionXml");
    }

    DomainStatus withReason(StateReason r) {
        return new DomainStatus(name, uuid, id, process, startedAtMillis, ptySlave, cgroup, homeDir, socketPath, r,
                stopRequested, currentMemoryBytes, definitionXml);
    }

    DomainStatus withStopRequested() {
        return new DomainStatus(name, uuid, id, process, startedAtMillis, ptySlave, cgroup, homeDir, socketPath, reason,
                true, currentMemoryBytes, definitionXml);
    }
}
