package org.kvmtool.manager.host;

import java.util.OptionalInt;

/**
 * The most vCPUs a kvmtool guest can use here, and where the figure comes from.
 *
 * @param source what decided it, for the log and the operator
 */
record VcpuLimit(int max, String source) {
    /** kvmtool's x86 MP table lists at most 255 CPUs (x86/mptable.c, MPTABLE_MAX_CPUS): a guest sees no more. */
    static final int X86_MPTABLE_MAX = 255;

    static VcpuLimit of(String arch, OptionalInt kvm) {
        boolean x86 = arch.equals("x86_64") || arch.equals("i686");
        if (kvm.isPresent()) {
            if (x86 && kvm.getAsInt() > X86_MPTABLE_MAX) {
                return new VcpuLimit(X86_MPTABLE_MAX, "kvmtool's x86 MP table (KVM allows " + kvm.getAsInt() + ")");
            }
            return new VcpuLimit(kvm.getAsInt(), "KVM_CAP_MAX_VCPUS of /dev/kvm");
        }
        return x86 ? new VcpuLimit(X86_MPTABLE_MAX, "kvmtool's x86 MP table (/dev/kvm could not be asked)")
                : new VcpuLimit(KvmDevice.KVM_DEFAULT_VCPUS, "kvmtool's default when KVM does not say (/dev/kvm could not be asked)");
    }
}
