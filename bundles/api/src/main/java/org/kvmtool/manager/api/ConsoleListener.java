package org.kvmtool.manager.api;

/** Receives a console's output as it arrives. Called on the console thread: must not block. */
public interface ConsoleListener {
    void output(byte[] data);

    /** The console ended (lkvm closed its side, or the console was closed). */
    default void closed() {
    }

    /**
     * Another session took the console over with force (virsh console --force): this session is detached, no
     * output follows. Instead of {@link #closed()}; by default the same.
     */
    default void displaced() {
        closed();
    }
}
