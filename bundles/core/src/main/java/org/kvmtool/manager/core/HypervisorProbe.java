package org.kvmtool.manager.core;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.HypervisorInfo;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * What {@code lkvm version} said, asked once: an available lkvm is remembered for the driver's life, an
 * unavailable one is asked again at every use, so installing lkvm needs no restart of the manager.
 */
final class HypervisorProbe {
    private final Function<String, HypervisorInfo> probe;
    private final String configured;
    private final AtomicReference<HypervisorInfo> last = new AtomicReference<>();

    /** {@code probe} is {@link org.kvmtool.manager.api.Hypervisor#probe}; {@code configured} may be null. */
    HypervisorProbe(Function<String, HypervisorInfo> probe, String configured) {
        this.probe = probe;
        this.configured = configured;
    }

    HypervisorInfo info() {
        HypervisorInfo h = last.get();
        if (h == null || !h.available()) {
            h = probe.apply(configured);
            last.set(h);
        }
        return h;
    }

    /** The binary to start, or SYSTEM_ERROR saying why there is none. */
    String binary() {
        HypervisorInfo h = info();
        if (!h.available()) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "lkvm is not available: " + h.reason());
        }
        return h.binary();
    }
}
