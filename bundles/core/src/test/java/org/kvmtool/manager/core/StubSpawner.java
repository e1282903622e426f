package org.kvmtool.manager.core;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.ProcessSpawner;
import org.kvmtool.manager.api.SpawnRequest;

/** A spawner that spawns nothing: its processes are alive or not as told, and it records the signals sent. */
final class StubSpawner implements ProcessSpawner {
    volatile boolean alive;
    final List<String> signals = new CopyOnWriteArrayList<>();

    StubSpawner(boolean alive) {
        this.alive = alive;
    }

    @Override
    public ProcessIdentity spawn(SpawnRequest request, Consumer<ProcessIdentity> beforeExec) {
        throw new UnsupportedOperationException("spawns nothing");
    }

    @Override
    public Optional<ProcessIdentity> identify(long pid) {
        return Optional.empty();
    }

    @Override
    public boolean isAlive(ProcessIdentity recorded) {
        return alive;
    }

    @Override
    public void signal(ProcessIdentity process, int signal) {
        signals.add(process.pid() + ":" + signal);
    }
}
