package org.kvmtool.manager.launch.argv;

import org.kvmtool.manager.api.DomainDefinition.ConsoleType;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What the host's lkvm can do, as far as the command line is concerned.
 *
 * @param arch         the guest architecture lkvm runs (libvirt's name: x86_64)
 * @param consoleTypes the {@code --console} kinds available
 * @param maxVcpus     the most vCPUs one guest may have (KVM_CAP_MAX_VCPUS, or less by policy)
 * @param features     optional devices lkvm was built with
 */
public record HostCapabilities(String arch, Set<ConsoleType> consoleTypes, int maxVcpus, Set<Feature> features) {

    /** Optional lkvm devices, each behind one option. */
    public enum Feature {
        /** {@code --balloon} */
        BALLOON,
        /** {@code --rng} */
        RNG,
        /** {@code --9p} */
        NINE_P,
        /** {@code -n mode=tap} */
        NET_TAP,
        /** {@code -n mode=user} */
        NET_USER,
        /** {@code --vsock} */
        VSOCK,
        /** {@code --hugetlbfs} */
        HUGETLBFS
    }

    public HostCapabilities {
        Objects.requireNonNull(arch, "arch");
        consoleTypes = Set.copyOf(consoleTypes);
        features = Set.copyOf(features);
    }

    /** An x86_64 lkvm with every console and device it normally has. */
    public static HostCapabilities x86_64(int maxVcpus) {
        return new HostCapabilities("x86_64", EnumSet.allOf(ConsoleType.class), maxVcpus, EnumSet.allOf(Feature.class));
    }
}
