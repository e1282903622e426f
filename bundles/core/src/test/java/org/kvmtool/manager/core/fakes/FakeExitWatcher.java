package org.kvmtool.manager.core.fakes;

import java.nio.file.Files;
import java.util.function.Consumer;

import org.kvmtool.manager.api.ExitInfo;
import org.kvmtool.manager.api.ExitWatcher;
import org.kvmtool.manager.api.ProcessIdentity;

/** Calls each listener once on the host's one watcher thread, and removes the ghost socket a signal leaves. */
public final class FakeExitWatcher implements ExitWatcher {
    private final FakeHost host;

    public FakeExitWatcher(FakeHost host) {
        this.host = host;
    }

    @Override
    public AutoCloseable watch(ProcessIdentity process, String socketPath, ExitListener listener) {
        FakeHost.Proc p = host.processes.get(process.pid());
        if (p == null || !p.identity.equals(process)) {
            // not one of ours (adopted and gone): report at once, kind inferred from the socket
            boolean left = socketPath != null && Files.exists(java.nio.file.Path.of(socketPath));
            host.watcherThread.execute(() -> listener.exited(new ExitInfo(process,
                    left ? ExitInfo.Kind.SIGNALED : ExitInfo.Kind.NORMAL, -1, 0, left, System.nanoTime())));
            return () -> { };
        }
        Consumer<ExitInfo> w = info -> {
            boolean removed = false;
            try {
                removed = socketPath != null && Files.deleteIfExists(java.nio.file.Path.of(socketPath));
            } catch (java.io.IOException e) {
                // left for the driver
            }
            listener.exited(new ExitInfo(info.process(), info.kind(), info.exitCode(), info.signal(), removed, info.nanoTime()));
        };
        p.addWatcher(w);
        return () -> p.removeWatcher(w);
    }
}
