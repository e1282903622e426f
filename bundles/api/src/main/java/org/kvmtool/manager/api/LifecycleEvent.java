package org.kvmtool.manager.api;

import java.util.Locale;

/** libvirt's virDomainEventType with its detail words (virDomainEvent*DetailType). */
public enum LifecycleEvent {
    DEFINED(0, "added", "updated"),
    UNDEFINED(1, "removed"),
    STARTED(2, "booted"),
    SUSPENDED(3, "paused"),
    RESUMED(4, "unpaused"),
    STOPPED(5, "shutdown", "destroyed", "crashed", "migrated", "saved", "failed"),
    SHUTDOWN(6, "finished");

    private final int libvirtCode;
    private final String[] details;

    LifecycleEvent(int libvirtCode, String... details) {
        this.libvirtCode = libvirtCode;
        this.details = details;
    }

    public int libvirtCode() {
        return libvirtCode;
    }

    /** libvirt's numeric detail for a detail word of this event, or -1 if it has none such. */
    public int detailCode(String detail) {
        for (int i = 0; i < details.length; i++) {
            if (details[i].equals(detail)) {
                return i;
            }
        }
        return -1;
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
