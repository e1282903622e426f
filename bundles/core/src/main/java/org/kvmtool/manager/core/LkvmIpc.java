package org.kvmtool.manager.core;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Function;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ProcessSpawner;

/**
 * An IPC request to a run's lkvm, and what its failure means. If lkvm has just ended (its exit is queued
 * behind the caller's job), the caller hears the truth, "domain is not running", not a connection error.
 */
final class LkvmIpc {
    /** How long an lkvm whose IPC failed is watched for its end (a kill in progress) before blaming IPC. */
    static final Duration EXIT_WAIT = Duration.ofMillis(200);

    private final ProcessSpawner spawner;
    private final Duration exitWait;

    LkvmIpc(ProcessSpawner spawner, Duration exitWait) {
        this.spawner = spawner;
        this.exitWait = exitWait;
    }

    void send(DomainRun run, Consumer<String> request) {
        ask(run, socket -> {
            request.accept(socket);
            return null;
        });
    }

    <T> T ask(DomainRun run, Function<String, T> request) {
        try {
            return request.apply(run.socketPath);
        } catch (KvmtoolException e) {
            // a killed lkvm drops its connections before /proc shows it ended: a short look at the process first
            throw reinterpret(e, run.process != null && spawner.awaitExit(run.process, exitWait));
        }
    }

    /** The failure to report: an IPC failure of an lkvm that has ended means the domain is not running. */
    static KvmtoolException reinterpret(KvmtoolException failure, boolean lkvmEnded) {
        return lkvmEnded ? new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is not running", failure) : failure;
    }
}
