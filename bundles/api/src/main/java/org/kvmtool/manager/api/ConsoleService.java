package org.kvmtool.manager.api;

/**
 * Consoles on ptys: lkvm owns the master as its stdio; the manager opens the slave by path, in raw
 * mode (TCSANOW, so nothing written while nobody held it is flushed), and drains every console
 * continuously into a bounded ring and a rotated log file, attached or not. One thread for all.
 */
public interface ConsoleService {
    /** posix_openpt + grantpt + unlockpt + ptsname. */
    Pty allocate();

    /** Closes this JVM's copy of a master descriptor, once lkvm has its own. */
    void closeMaster(int masterFd);

    /**
     * Starts draining a domain's console (at start, and again after a manager restart with the recorded path).
     *
     * @param ownerPid when > 0, the pty must be the one that process holds as its stdio, else SYSTEM_ERROR
     * @param logFile  the console log; rotated to logFile + ".1" at {@code maxLogBytes}
     */
    void open(String domain, String slavePath, long ownerPid, String logFile, long maxLogBytes);

    /** Stops draining and closes the slave; idempotent. Output already drained stays in the ring and log. */
    void close(String domain);

    boolean isOpen(String domain);

    /** The last {@code maxBytes} bytes of output (from the ring; empty if the console never opened). */
    byte[] tail(String domain, int maxBytes);

    /** Writes input to the guest (the JMX sendConsole path): refused while an attach session holds the writer slot. */
    void write(String domain, byte[] data);

    /** A read-only subscriber to the output from now on. */
    AutoCloseable subscribe(String domain, ConsoleListener listener);

    /** {@link #attach(String, boolean, int, ConsoleListener)} with no history: output from now on. */
    default ConsoleAttachment attach(String domain, boolean force, ConsoleListener listener) {
        return attach(domain, force, 0, listener);
    }

    /**
     * An interactive session: output to {@code listener}, input through the returned attachment. Only one
     * writer at a time: a second one is refused with OPERATION_INVALID unless {@code force}, which takes over
     * as virsh console --force does: the session it displaces is detached and told
     * ({@link ConsoleListener#displaced()}).
     *
     * @param historyBytes the listener's first output is the last {@code historyBytes} bytes of the console,
     *                     then the output that follows them, nothing lost or repeated between the two
     */
    ConsoleAttachment attach(String domain, boolean force, int historyBytes, ConsoleListener listener);
}
