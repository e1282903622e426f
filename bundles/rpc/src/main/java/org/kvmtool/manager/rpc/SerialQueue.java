package org.kvmtool.manager.rpc;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Runs one connection's work (its calls, its console input, the making of its event messages) one at a
 * time and in order, on the server's shared workers: a connection holds a worker only while it has work,
 * and never more than one. A task that throws anything, an Error included, is handed to {@code failed},
 * which ends that connection; the worker runs on.
 */
final class SerialQueue implements Executor {
    private final Executor workers;
    private final int maxPending;
    private final Consumer<Throwable> failed;
    private ArrayDeque<Runnable> tasks;
    private boolean running;

    /** @param maxPending tasks waiting beyond which the connection is not keeping up ({@code failed} is told) */
    SerialQueue(Executor workers, int maxPending, Consumer<Throwable> failed) {
        this.workers = workers;
        this.maxPending = maxPending;
        this.failed = failed;
    }

    @Override
    public void execute(Runnable task) {
        synchronized (this) {
            if (tasks == null) {
                tasks = new ArrayDeque<>();
            }
            if (tasks.size() >= maxPending) {
                throw new RejectedExecutionException(maxPending + " tasks already waiting");
            }
            tasks.addLast(task);
            if (running) {
                return;
            }
            running = true;
        }
        try {
            workers.execute(this::drain);
        } catch (RejectedExecutionException | Error e) {
            synchronized (this) {
                running = false;
                tasks = null;
            }
            failed.accept(e);
        }
    }

    private void drain() {
        while (true) {
            Runnable next;
            synchronized (this) {
                next = tasks == null ? null : tasks.pollFirst();
                if (next == null) {
                    running = false;
                    tasks = null; // an idle connection holds no queue
                    return;
                }
            }
            try {
                next.run();
            } catch (Throwable t) {
                failed.accept(t);
            }
        }
    }
}
