package org.kvmtool.manager.host;

import java.nio.file.Path;
import java.util.OptionalInt;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

/**
 * Asks KVM for its vCPU limit the way kvmtool does (kvm.c, kvm__max_cpus): KVM_CHECK_EXTENSION on /dev/kvm for
 * KVM_CAP_MAX_VCPUS, else KVM_CAP_NR_VCPUS, else 4 (KVM's documented default). The only JNA of this bundle, kept
 * in this one class.
 */
final class KvmDevice {
    /** _IO(KVMIO 0xAE, 0x03). */
    static final long KVM_CHECK_EXTENSION = 0xAE03;
    static final int KVM_CAP_NR_VCPUS = 9;
    static final int KVM_CAP_MAX_VCPUS = 66;
    /** What kvmtool assumes when KVM answers neither question. */
    static final int KVM_DEFAULT_VCPUS = 4;
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;

    interface LibC extends Library {
        int open(String path, int flags);

        int ioctl(int fd, NativeLong request, NativeLong arg);

        int close(int fd);
    }

    private KvmDevice() {
    }

    /** KVM's limit on vCPUs per guest, or empty when /dev/kvm cannot be opened (or JNA is missing). */
    static OptionalInt maxVcpus(Path devKvm) {
        LibC c;
        try {
            c = Native.load("c", LibC.class);
        } catch (LinkageError e) {
            return OptionalInt.empty();
        }
        int fd = c.open(devKvm.toString(), O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            return OptionalInt.empty();
        }
        try {
            int max = c.ioctl(fd, new NativeLong(KVM_CHECK_EXTENSION), new NativeLong(KVM_CAP_MAX_VCPUS));
            if (max <= 0) {
                max = c.ioctl(fd, new NativeLong(KVM_CHECK_EXTENSION), new NativeLong(KVM_CAP_NR_VCPUS));
            }
            return OptionalInt.of(max > 0 ? max : KVM_DEFAULT_VCPUS);
        } finally {
            c.close(fd);
        }
    }
}
