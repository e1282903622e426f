package org.kvmtool.manager.core;

import java.util.List;
import java.util.concurrent.Future;

import org.kvmtool.manager.api.CgroupRef;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ProcessIdentity;

/**
 * One life of lkvm for a domain, from the first step of start to the end of stop. Filled step by step by
 * the start sequence, so the one rollback knows exactly what to undo; fields stay null for steps not taken.
 * Written only by the job holder (or the exit handler holding the job); read under the domain's monitor.
 */
final class DomainRun {
    final int id;
    /** The live definition: what lkvm was started with, plus the tunables changed live since. */
    volatile DomainDefinition definition;
    volatile String definitionXml;
    final String homeDir;
    final String socketPath;
    volatile CgroupRef cgroup;
    volatile int masterFd = -1;
    volatile String ptySlave;
    volatile boolean consoleOpen;
    volatile ProcessIdentity process;
    volatile AutoCloseable exitWatch;
    volatile long startedAtMillis;
    volatile boolean stopRequested;
    volatile long currentMemoryBytes;
    volatile List<Long> vcpuThreadIds = List.of();
    volatile Future<?> shutdownTimer;

    DomainRun(int id, DomainDefinition definition, String definitionXml, String homeDir, String socketPath) {
        this.id = id;
        this.definition = definition;
        this.definitionXml = definitionXml;
        this.homeDir = homeDir;
        this.socketPath = socketPath;
        this.currentMemoryBytes = definition.currentMemoryBytes();
    }

    long pid() {
        ProcessIdentity p = process;
        return p == null ? -1 : p.pid();
    }
}
