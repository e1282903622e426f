package org.kvmtool.manager.jmx;

import java.beans.ConstructorProperties;

import org.kvmtool.manager.api.InterfaceStats;

/**
 * One element of the Domain MBean's {@code InterfaceStats}: an interface's tap and its traffic counters from the
 * guest's side (libvirt's virsh domifstat). As an MXBean type it is a CompositeData with these items, so JConsole
 * shows a table and Jolokia a JSON object per interface.
 */
public final class InterfaceCounters {
    private final String device;
    private final String mac;
    private final long rxBytes;
    private final long rxPackets;
    private final long rxErrs;
    private final long rxDrop;
    private final long txBytes;
    private final long txPackets;
    private final long txErrs;
    private final long txDrop;

    @ConstructorProperties({"device", "mac", "rxBytes", "rxPackets", "rxErrs", "rxDrop", "txBytes", "txPackets", "txErrs", "txDrop"})
    public InterfaceCounters(String device, String mac, long rxBytes, long rxPackets, long rxErrs, long rxDrop,
                             long txBytes, long txPackets, long txErrs, long txDrop) {
        this.device = device;
        this.mac = mac;
        this.rxBytes = rxBytes;
        this.rxPackets = rxPackets;
        this.rxErrs = rxErrs;
        this.rxDrop = rxDrop;
        this.txBytes = txBytes;
        this.txPackets = txPackets;
        this.txErrs = txErrs;
        this.txDrop = txDrop;
    }

    static InterfaceCounters of(InterfaceStats s) {
        return new InterfaceCounters(s.device(), s.mac(), s.rxBytes(), s.rxPackets(), s.rxErrs(), s.rxDrop(),
                s.txBytes(), s.txPackets(), s.txErrs(), s.txDrop());
    }

    /** The tap on the host. */
    public String getDevice() {
        return device;
    }

    /** The guest's MAC address. */
    public String getMac() {
        return mac;
    }

    public long getRxBytes() {
        return rxBytes;
    }

    public long getRxPackets() {
        return rxPackets;
    }

    public long getRxErrs() {
        return rxErrs;
    }

    public long getRxDrop() {
        return rxDrop;
    }

    public long getTxBytes() {
        return txBytes;
    }

    public long getTxPackets() {
        return txPackets;
    }

    public long getTxErrs() {
        return txErrs;
    }

    public long getTxDrop() {
        return txDrop;
    }
}
