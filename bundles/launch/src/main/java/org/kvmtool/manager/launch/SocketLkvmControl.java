package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LkvmControl;
import org.kvmtool.manager.api.ProcessIdentity;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/** kvmtool's IPC over the JDK's UNIX-domain channels: one request per connection, a deadline on each. */
// immediate: a delayed component is disposed with its last user, so an update of the driver would rebuild it
// (and a console service would drop every console's ring and reopen its pty); infrastructure outlives the driver
@Component(service = LkvmControl.class, immediate = true)
@Designate(ocd = SocketLkvmControl.Config.class)
public final class SocketLkvmControl implements LkvmControl {
    private static final Logger LOG = Logger.getLogger(SocketLkvmControl.class.getName());

    @ObjectClassDefinition(name = "kvmtool-manager lkvm control", description = "Talking to lkvm over its IPC socket")
    public @interface Config {
        @AttributeDefinition(description = "Deadline of one IPC call (connect, send, answer), in milliseconds")
        long ipc_timeout_millis() default 2_000;

        @AttributeDefinition(description = "Pause between the SysRq keys s, u and b of a graceful shutdown, in milliseconds")
        long sysrq_step_millis() default 500;

        @AttributeDefinition(description = "How long to wait for the exit after SIGKILL, in milliseconds")
        long kill_wait_millis() default 5_000;
    }

    /** Between connect attempts while lkvm starts; spent waiting on the pidfd, so a death ends it early. */
    private static final long READY_RETRY_MILLIS = 1;
    /** How long an lkvm whose STOP failed may take to end by itself before it is killed. */
    private static final long STOP_FAILED_WAIT_MILLIS = 250;

    private final Posix posix;
    private final ProcFs proc;
    private final long ipcTimeoutNanos;
    private final long sysrqStepMillis;
    private final long killWaitMillis;

    @Activate
    public SocketLkvmControl(Config config) {
        this(Path.of("/proc"), Duration.ofMillis(config.ipc_timeout_millis()),
                Duration.ofMillis(config.sysrq_step_millis()), Duration.ofMillis(config.kill_wait_millis()));
    }

    SocketLkvmControl(Path procRoot, Duration ipcTimeout, Duration sysrqStep, Duration killWait) {
        this.posix = new Posix();
        this.proc = new ProcFs(procRoot);
        this.ipcTimeoutNanos = ipcTimeout.toNanos();
        this.sysrqStepMillis = sysrqStep.toMillis();
        this.killWaitMillis = killWait.toMillis();
    }

    @Override
    public int awaitReady(String socketPath, ProcessIdentity process, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Pidfd pidfd = Pidfd.open(posix, proc, process, true).orElseThrow(() -> endedBeforeReady(process));
        try (pidfd) {
            // vCPU first, IPC second: lkvm adds its socket to the IPC thread's epoll before it registers the
            // request handlers, and a request that comes in between is dropped unanswered (kvm-ipc.c; the
            // stand-in does the same). The vCPU threads start after the IPC setup, so once kvm-vcpu-0 runs a
            // PID request is answered.
            awaitFirstVcpu(process, pidfd, deadline, timeout);
            while (true) {
                if (pidfd.exited()) {
                    throw endedBeforeReady(process);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new KvmtoolException(ErrorCode.OPERATION_TIMEOUT, "lkvm (pid " + process.pid()
                            + ") did not answer on " + socketPath + " within " + timeout.toMillis() + " ms");
                }
                try {
                    byte[] reply = IpcClient.call(Path.of(socketPath), IpcWire.request(IpcWire.PID), 4,
                            Math.min(left, ipcTimeoutNanos));
                    return IpcWire.int32(reply);
                } catch (IpcClient.NotListeningException e) {
                    pidfd.awaitExit(READY_RETRY_MILLIS);
                } catch (IOException e) {
                    throw failure("PID", socketPath, e);
                }
            }
        } catch (SysCallException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot watch lkvm (pid " + process.pid() + "): "
                    + e.getMessage(), e);
        }
    }

    /**
     * lkvm listens before its vCPU threads exist, and a STOP or PAUSE in that gap is silently lost
     * (measured on the real lkvm): ready means kvm-vcpu-0 runs too, and it is awaited first (see above).
     */
    private void awaitFirstVcpu(ProcessIdentity process, Pidfd pidfd, long deadline, Duration timeout)
            throws SysCallException {
        while (!proc.hasThread(process.pid(), "kvm-vcpu-0")) {
            if (pidfd.awaitExit(READY_RETRY_MILLIS)) {
                throw endedBeforeReady(process);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new KvmtoolException(ErrorCode.OPERATION_TIMEOUT, "lkvm (pid " + process.pid()
                        + ") started no vCPU within " + timeout.toMillis() + " ms");
            }
        }
    }

    private static KvmtoolException endedBeforeReady(ProcessIdentity process) {
        return new KvmtoolException(ErrorCode.OPERATION_FAILED,
                "lkvm (pid " + process.pid() + ") ended before its control socket answered");
    }

    @Override
    public int pid(String socketPath) {
        return IpcWire.int32(call("PID", socketPath, IpcWire.request(IpcWire.PID), 4));
    }

    @Override
    public VmState vmState(String socketPath) {
        int state = IpcWire.int32(call("VMSTATE", socketPath, IpcWire.request(IpcWire.VMSTATE), 4));
        return switch (state) {
            case 0 -> VmState.RUNNING;
            case 1 -> VmState.PAUSED;
            default -> throw new KvmtoolException(ErrorCode.INTERNAL_ERROR,
                    "lkvm reported an unknown vm state " + state + " on " + socketPath);
        };
    }

    @Override
    public void pause(String socketPath) {
        call("PAUSE", socketPath, IpcWire.request(IpcWire.PAUSE), 0);
    }

    @Override
    public void resume(String socketPath) {
        call("RESUME", socketPath, IpcWire.request(IpcWire.RESUME), 0);
    }

    @Override
    public void stop(String socketPath) {
        call("STOP", socketPath, IpcWire.request(IpcWire.STOP), 0);
    }

    @Override
    public void balloon(String socketPath, int deltaMiB) {
        call("BALLOON", socketPath, IpcWire.balloon(deltaMiB), 0);
    }

    @Override
    public void sysrq(String socketPath, char key) {
        call("DEBUG sysrq", socketPath, IpcWire.debug(IpcWire.DEBUG_SYSRQ, 0, key), 0);
    }

    @Override
    public void nmi(String socketPath, int cpu) {
        if (cpu < 0) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "no vCPU " + cpu);
        }
        call("DEBUG nmi", socketPath, IpcWire.debug(IpcWire.DEBUG_NMI, cpu, '\0'), 0);
    }

    @Override
    public Map<String, Long> stat(String socketPath, Duration timeout) {
        try {
            return IpcWire.stats(IpcClient.callUntilQuiet(Path.of(socketPath), IpcWire.request(IpcWire.STAT),
                    timeout.toNanos()));
        } catch (IOException e) {
            throw failure("STAT (it needs a balloon driver in the guest)", socketPath, timeout.toNanos(), e);
        }
    }

    @Override
    public void terminate(ProcessIdentity process, String socketPath, Duration grace) {
        Optional<Pidfd> opened = Pidfd.open(posix, proc, process, true);
        if (opened.isEmpty()) {
            return; // already gone
        }
        try (Pidfd pidfd = opened.get()) {
            if (pidfd.exited()) {
                return;
            }
            // Any other failed STOP may still be lkvm ending: a short wait before SIGKILL lets it end normally.
            long wait = askToStop(socketPath) ? grace.toMillis() : Math.min(grace.toMillis(), STOP_FAILED_WAIT_MILLIS);
            if (pidfd.awaitExit(wait)) {
                return;
            }
            try {
                pidfd.signal(Posix.SIGKILL);
            } catch (SysCallException e) {
                if (e.errno() != Posix.ESRCH) {
                    throw e;
                }
            }
            if (!pidfd.awaitExit(killWaitMillis)) {
                throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "lkvm (pid " + process.pid()
                        + ") survived SIGKILL for " + killWaitMillis + " ms");
            }
        } catch (SysCallException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot end lkvm (pid " + process.pid() + "): "
                    + e.getMessage(), e);
        }
    }

    /**
     * RESUME first if paused (kvmtool ignores STOP while paused), then STOP; false if IPC failed. A STOP that
     * fails right after our RESUME counts as asked: a STOP sent while paused acts on that RESUME, lkvm is
     * ending and breaks the connection (its exit then takes more than the short wait on a busy host).
     */
    private boolean askToStop(String socketPath) {
        boolean resumed = false;
        try {
            if (vmState(socketPath) == VmState.PAUSED) {
                resume(socketPath);
                resumed = true;
            }
            stop(socketPath);
            return true;
        } catch (KvmtoolException e) {
            LOG.log(Level.INFO, "IPC stop failed" + (resumed ? " after RESUME (lkvm ending)" : ", killing instead")
                    + ": " + e.getMessage(), e);
            return resumed;
        }
    }

    @Override
    public void gracefulShutdown(String socketPath, Runnable consoleKick) {
        // s: sync, u: remount read-only, b: reset (ends lkvm). kvmtool delivers a SysRq to the guest only
        // with the next console input byte, and keeps one pending at a time: a byte after each key, and a
        // pause that gives the guest time for it.
        for (char key : new char[] {'s', 'u', 'b'}) {
            sysrq(socketPath, key);
            // lkvm serves connections one after the other: an answer on a new one proves the key is queued
            vmState(socketPath);
            consoleKick.run();
            if (key != 'b') {
                sleep(sysrqStepMillis);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvmtoolException(ErrorCode.OPERATION_FAILED, "interrupted during a graceful shutdown", e);
        }
    }

    private byte[] call(String what, String socketPath, ByteBuffer request, int replyBytes) {
        try {
            return IpcClient.call(Path.of(socketPath), request, replyBytes, ipcTimeoutNanos);
        } catch (IOException e) {
            throw failure(what, socketPath, e);
        }
    }

    private KvmtoolException failure(String what, String socketPath, IOException e) {
        return failure(what, socketPath, ipcTimeoutNanos, e);
    }

    private static KvmtoolException failure(String what, String socketPath, long timeoutNanos, IOException e) {
        if (e instanceof IpcClient.TimeoutException) {
            return new KvmtoolException(ErrorCode.OPERATION_TIMEOUT, "lkvm did not answer " + what + " within "
                    + timeoutNanos / 1_000_000L + " ms on " + socketPath, e);
        }
        if (e instanceof IpcClient.NotListeningException) {
            return new KvmtoolException(ErrorCode.OPERATION_FAILED, "lkvm is not listening on " + socketPath
                    + ": " + e.getCause().getMessage(), e);
        }
        return new KvmtoolException(ErrorCode.SYSTEM_ERROR, "IPC " + what + " failed on " + socketPath + ": "
                + e.getMessage(), e);
    }
}
