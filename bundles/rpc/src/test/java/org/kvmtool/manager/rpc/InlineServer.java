package org.kvmtool.manager.rpc;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link ClientConnection}'s server without sockets or threads: the test feeds the connection and chooses
 * where its calls run ({@code Runnable::run}: at once).
 */
final class InlineServer implements ClientConnection.Server {
    final Limits limits;
    final MemoryBudget budget;
    final Admission<ClientConnection> admission;
    final AtomicInteger interestChanges = new AtomicInteger();
    private final Executor workers;

    InlineServer(Limits limits, Executor workers) {
        this.limits = limits;
        this.budget = new MemoryBudget(limits.maxBufferBytes());
        this.admission = new Admission<>(limits);
        this.workers = workers;
    }

    @Override
    public Limits limits() {
        return limits;
    }

    @Override
    public MemoryBudget budget() {
        return budget;
    }

    @Override
    public Executor workers() {
        return workers;
    }

    @Override
    public void interestChanged(ClientConnection c) {
        interestChanges.incrementAndGet();
    }

    @Override
    public void open(ClientConnection c) {
        admission.open(c);
    }

    @Override
    public void closed(ClientConnection c, String why) {
        admission.closed(c);
    }
}
