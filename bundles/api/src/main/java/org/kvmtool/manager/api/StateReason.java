package org.kvmtool.manager.api;

/**
 * Why a domain is in its state, with libvirt's words and numbers (virDomainRunningReason,
 * virDomainPausedReason, virDomainShutdownReason, virDomainShutoffReason).
 */
public enum StateReason {
    RUNNING_UNKNOWN(DomainState.RUNNING, 0, "unknown"),
    BOOTED(DomainState.RUNNING, 1, "booted"),
    UNPAUSED(DomainState.RUNNING, 5, "unpaused"),
    PAUSED_UNKNOWN(DomainState.PAUSED, 0, "unknown"),
    PAUSED_USER(DomainState.PAUSED, 1, "user"),
    SHUTDOWN_USER(DomainState.SHUTDOWN, 1, "user"),
    SHUTOFF_UNKNOWN(DomainState.SHUTOFF, 0, "unknown"),
    /** The guest ended itself (lkvm exited normally and nobody asked). */
    SHUTDOWN(DomainState.SHUTOFF, 1, "shutdown"),
    DESTROYED(DomainState.SHUTOFF, 2, "destroyed"),
    /** lkvm died by a signal or exited non-zero after it had started. */
    CRASHED(DomainState.SHUTOFF, 3, "crashed"),
    /** lkvm could not be started. */
    FAILED(DomainState.SHUTOFF, 6, "failed");

    private final DomainState state;
    private final int libvirtCode;
    private final String word;

    StateReason(DomainState state, int libvirtCode, String word) {
        this.state = state;
        this.libvirtCode = libvirtCode;
        this.word = word;
    }

    /** The only state this reason can go with. */
    public DomainState state() {
        return state;
    }

    public int libvirtCode() {
        return libvirtCode;
    }

    /** libvirt's word for the reason, as `virsh domstate --reason` prints it. */
    public String word() {
        return word;
    }
}
