package org.kvmtool.manager.api;

/**
 * One thread for all domains, woken by the kernel when a watched process ends (pidfd + epoll), for
 * children of this JVM and for processes adopted after a restart alike. Reaps its children.
 */
public interface ExitWatcher {
    /**
     * Watches a process. The listener is called exactly once, on the watcher thread, when it ends (at
     * once if it is already gone). {@code socketPath} is its IPC socket: removed if left behind.
     *
     * @return a handle whose close() stops watching without calling the listener
     */
    AutoCloseable watch(ProcessIdentity process, String socketPath, ExitListener listener);

    @FunctionalInterface
    interface ExitListener {
        void exited(ExitInfo info);
    }
}
