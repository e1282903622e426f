package org.kvmtool.manager.api;

import java.util.Locale;

/** libvirt's domain states that kvmtool can be in; {@link #libvirtCode()} is virDomainState. */
public enum DomainState {
    RUNNING(1),
    PAUSED(3),
    SHUTDOWN(4),
    SHUTOFF(5);

    private final int libvirtCode;

    DomainState(int libvirtCode) {
        this.libvirtCode = libvirtCode;
    }

    public int libvirtCode() {
        return libvirtCode;
    }

    /** True while an lkvm process exists for the domain. */
    public boolean isActive() {
        return this != SHUTOFF;
    }

    /** libvirt's word, lower case: "running", "paused", "shutdown", "shutoff". */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
