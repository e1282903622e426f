package org.kvmtool.manager.core.fakes;

import java.util.Optional;
import java.util.function.Consumer;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.ProcessSpawner;
import org.kvmtool.manager.api.SpawnRequest;

public final class FakeSpawner implements ProcessSpawner {
    private final FakeHost host;
    private final FakeConsole console;
    public volatile SpawnRequest lastRequest;
    /** Called while the process is held, after beforeExec: what a manager killed right now would leave. */
    public volatile Consumer<ProcessIdentity> whileHeld = id -> { };

    public FakeSpawner(FakeHost host, FakeConsole console) {
        this.host = host;
        this.console = console;
    }

    @Override
    public ProcessIdentity spawn(SpawnRequest r, Consumer<ProcessIdentity> beforeExec) {
        lastRequest = r;
        FakeHost.Pty pty = console.byMaster(r.stdioFd());
        if (pty == null || !pty.masterOpenInJvm) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "spawn: stdio fd " + r.stdioFd() + " is not open");
        }
        // as the real helper: what beforeExec records exists before the program runs, and its failure means no run
        ProcessIdentity toBe = host.nextIdentity(r.argv());
        beforeExec.accept(toBe);
        whileHeld.accept(toBe);
        return host.spawn(toBe, r.homeDir(), pty, r.uid(), r.cgroupProcsFiles()).identity;
    }

    @Override
    public Optional<ProcessIdentity> identify(long pid) {
        FakeHost.Proc p = host.processes.get(pid);
        return p != null && p.alive ? Optional.of(p.identity) : Optional.empty();
    }

    @Override
    public boolean isAlive(ProcessIdentity recorded) {
        FakeHost.Proc p = host.processes.get(recorded.pid());
        return p != null && p.alive && p.identity.equals(recorded);
    }

    @Override
    public void signal(ProcessIdentity process, int signal) {
        FakeHost.Proc p = host.processes.get(process.pid());
        if (p != null && p.identity.equals(process)) {
            p.kill(signal);
        }
    }
}
