package org.kvmtool.manager.core.fakes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LkvmControl;
import org.kvmtool.manager.api.ProcessIdentity;

/** kvmtool's IPC as lkvm answers it: through the socket file; STOP does nothing while paused. */
public final class FakeControl implements LkvmControl {
    private final FakeHost host;
    public final List<String> sent = new CopyOnWriteArrayList<>();
    public final List<Integer> balloons = new CopyOnWriteArrayList<>();

    public FakeControl(FakeHost host) {
        this.host = host;
    }

    private FakeHost.Proc at(String socketPath) {
        Path p = Path.of(socketPath);
        if (!Files.exists(p)) {
            throw new KvmtoolException(ErrorCode.OPERATION_FAILED, "cannot connect to " + socketPath + ": No such file or directory");
        }
        return host.processes.values().stream().filter(x -> x.socket.equals(p) && x.alive).findFirst()
                .orElseThrow(() -> new KvmtoolException(ErrorCode.OPERATION_FAILED, "cannot connect to " + socketPath + ": Connection refused"));
    }

    @Override
    public int awaitReady(String socketPath, ProcessIdentity process, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            FakeHost.Proc p = host.processes.get(process.pid());
            if (p == null || !p.alive) {
                throw new KvmtoolException(ErrorCode.OPERATION_FAILED, "lkvm " + process.pid() + " ended before its socket answered");
            }
            if (Files.exists(Path.of(socketPath))) {
                return (int) process.pid();
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KvmtoolException(ErrorCode.OPERATION_FAILED, "interrupted");
            }
        }
        throw new KvmtoolException(ErrorCode.OPERATION_TIMEOUT, "lkvm did not answer on " + socketPath + " within " + timeout);
    }

    @Override
    public int pid(String socketPath) {
        return (int) at(socketPath).pid();
    }

    @Override
    public VmState vmState(String socketPath) {
        return at(socketPath).paused ? VmState.PAUSED : VmState.RUNNING;
    }

    @Override
    public void pause(String socketPath) {
        sent.add("pause");
        at(socketPath).paused = true;
    }

    @Override
    public void resume(String socketPath) {
        sent.add("resume");
        at(socketPath).paused = false;
    }

    @Override
    public void stop(String socketPath) {
        sent.add("stop");
        FakeHost.Proc p = at(socketPath);
        if (!p.paused) {
            p.exitNormally();
        }
    }

    @Override
    public void balloon(String socketPath, int deltaMiB) {
        at(socketPath);
        balloons.add(deltaMiB);
    }

    @Override
    public void sysrq(String socketPath, char key) {
        sent.add("sysrq " + key);
        FakeHost.Proc p = at(socketPath);
        if (key == 'b' && host.guestHonoursSysrq && !p.paused) {
            p.exitNormally();
        }
    }

    @Override
    public void nmi(String socketPath, int cpu) {
        at(socketPath);
    }

    @Override
    public Map<String, Long> stat(String socketPath, Duration timeout) {
        at(socketPath);
        return Map.of("memtot", 64L << 20);
    }

    @Override
    public void terminate(ProcessIdentity process, String socketPath, Duration grace) {
        FakeHost.Proc p = host.processes.get(process.pid());
        if (p == null || !p.alive) {
            return;
        }
        try {
            if (p.paused) {
                resume(socketPath);
            }
            stop(socketPath);
        } catch (KvmtoolException e) {
            // socket gone: the kill below ends it
        }
        if (p.alive) {
            p.kill(9);
        }
    }

    @Override
    public void gracefulShutdown(String socketPath, Runnable consoleKick) {
        for (char key : new char[] {'s', 'u', 'b'}) {
            sysrq(socketPath, key);
            consoleKick.run();
        }
    }
}
