package org.kvmtool.manager.api;

/** An attach session on a console: it receives output through its listener; the writer may write. */
public interface ConsoleAttachment extends AutoCloseable {
    /** Sends input to the guest. Fails with OPERATION_INVALID if this session is not (or no longer) the writer. */
    void write(byte[] data);

    /** True while this session holds the console's one write slot. */
    boolean isWriter();

    /** Detaches; idempotent. */
    @Override
    void close();
}
