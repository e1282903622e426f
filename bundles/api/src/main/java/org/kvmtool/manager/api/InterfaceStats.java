package org.kvmtool.manager.api;

import java.util.Objects;

/**
 * Traffic counters of one guest interface, as the guest sees them (libvirt's virDomainInterfaceStats): rx is
 * what the guest received. They come from the host's tap, whose directions are the other way round (a tap's
 * rx is what the guest sent), and live as long as the tap: they start at 0 with each run.
 *
 * @param device the tap on the host (libvirt's {@code <target dev>}, the name virsh domifstat takes)
 * @param mac    the guest's MAC address, may be null
 */
public record InterfaceStats(String device, String mac, long rxBytes, long rxPackets, long rxErrs, long rxDrop,
                             long txBytes, long txPackets, long txErrs, long txDrop) {
    public InterfaceStats {
        Objects.requireNonNull(device, "device");
    }
}
