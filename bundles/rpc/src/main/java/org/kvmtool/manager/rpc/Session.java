package org.kvmtool.manager.rpc;

import org.kvmtool.manager.api.DomainInfo;

/** What the dispatcher needs from the connection it serves: its access level, events and streams. */
interface Session {
    /** True once CONNECT_OPEN succeeded. */
    boolean isOpen();

    void opened(boolean readOnly);

    /** A read-only socket, or CONNECT_OPEN with VIR_CONNECT_RO. */
    boolean isReadOnly();

    /**
     * Registers a lifecycle callback; {@code domain} null = all domains. {@code legacy} = the old
     * REGISTER_ANY (pushes are DOMAIN_EVENT_LIFECYCLE, without callback id). Returns the callback id.
     */
    int registerLifecycle(DomainInfo domain, boolean legacy);

    void deregister(int callbackId);

    void deregisterLegacy();

    /** Bridges the domain's console to a STREAM on this call's serial. */
    void openConsole(Packet call, String domain, boolean force);
}
