package org.kvmtool.manager.core;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * The balloon arithmetic, pure. kvmtool's balloon takes a relative size in whole MiB: positive inflates it
 * (the guest gets less), negative deflates it. lkvm starts a guest with all of its maximum memory.
 */
final class Balloon {
    static final long MIB = 1024 * 1024;

    private Balloon() {
    }

    /** A balloon target is at least 1 MiB and at most the maximum memory. */
    static void checkTarget(long bytes, long maxBytes) {
        if (bytes < MIB || bytes > maxBytes) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "memory " + bytes + " bytes is outside 1 MiB.."
                    + maxBytes + " bytes (the maximum)");
        }
    }

    /** The step from {@code currentBytes} toward {@code targetBytes}: whole MiB, a partial MiB left out. */
    static int stepMiB(long currentBytes, long targetBytes) {
        return Math.toIntExact((currentBytes - targetBytes) / MIB);
    }

    /** The balloon target once {@code stepMiB} is done. */
    static long after(long currentBytes, int stepMiB) {
        return currentBytes - stepMiB * MIB;
    }

    /**
     * What to inflate right after start to bring a guest from its maximum to its {@code currentMemory}: 0
     * without a balloon or for less than 1 MiB (the guest then keeps its maximum).
     */
    static int initialInflateMiB(DomainDefinition def) {
        long inflate = def.maxMemoryBytes() - def.currentMemoryBytes();
        return def.devices().balloon() && inflate >= MIB ? Math.toIntExact(inflate / MIB) : 0;
    }
}
