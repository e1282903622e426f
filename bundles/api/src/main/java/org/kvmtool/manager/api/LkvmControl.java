package org.kvmtool.manager.api;

import java.time.Duration;
import java.util.Map;

/**
 * kvmtool's IPC, one request per connection and a timeout on every call, so a wedged lkvm never
 * wedges a manager thread (OPERATION_TIMEOUT). Sockets are {@code HOME/.lkvm/NAME.sock} paths.
 */
public interface LkvmControl {
    enum VmState { RUNNING, PAUSED }

    /**
     * Waits until the socket accepts and answers PID (ECONNREFUSED and a missing file are retried), as
     * long as {@code process} lives. Returns the pid lkvm reported. Fails with OPERATION_FAILED if the
     * process ended first, OPERATION_TIMEOUT after {@code timeout}.
     */
    int awaitReady(String socketPath, ProcessIdentity process, Duration timeout);

    int pid(String socketPath);

    VmState vmState(String socketPath);

    void pause(String socketPath);

    void resume(String socketPath);

    /** STOP: lkvm ends normally. Does nothing while paused (kvmtool waits for RESUME). */
    void stop(String socketPath);

    /** BALLOON: positive MiB inflate (the guest gets less), negative deflate. */
    void balloon(String socketPath, int deltaMiB);

    /** DEBUG with the sysrq bit: the key reaches the guest's serial port 0. */
    void sysrq(String socketPath, char key);

    /** DEBUG with the NMI bit on one vCPU. */
    void nmi(String socketPath, int cpu);

    /**
     * STAT: balloon statistics by virtio tag name. Only on an explicit user request: lkvm answers only if the
     * guest has a balloon driver, else its IPC thread is stuck for good, so this always has a timeout.
     */
    Map<String, Long> stat(String socketPath, Duration timeout);

    /**
     * Ends the process: RESUME if paused, STOP, wait up to {@code grace} for the exit, then SIGKILL through
     * its pidfd. Returns once the process is gone.
     */
    void terminate(ProcessIdentity process, String socketPath, Duration grace);

    /**
     * A guest-friendly shutdown of a Linux guest: SysRq s, u, then b (kvmtool has no ACPI; b resets, which
     * ends lkvm). kvmtool hands a SysRq to the guest only together with the next byte of console input, so
     * {@code consoleKick} must write one byte to the guest's console; it is called after each key.
     */
    void gracefulShutdown(String socketPath, Runnable consoleKick);
}
