package org.kvmtool.manager.host;

/**
 * libvirt's domain capabilities XML (domaincaps.rng) for kvmtool guests, true to what kvmtool-manager runs, so
 * that a generator (virt-install, virt-manager) emits nothing else:
 * <ul>
 * <li>os: direct kernel boot only, no firmware and no loader;
 * <li>CPU: host-passthrough only. kvmtool gives every vCPU the CPUID that KVM_GET_SUPPORTED_CPUID returns, barely
 * filtered (kvmtool's x86/cpuid.c), which is what libvirt calls host-passthrough; it has no CPU model option;
 * <li>devices: virtio disks, 9p shares (driver type path), one virtio rng reading the host's random source; no
 * graphics, video, host device, TPM, redirection or channel;
 * <li>features: none of libvirt's switches: kvmtool has no vmcoreinfo, genid, SEV, SGX or Hyper-V enlightenments.
 * </ul>
 * Consoles and network interfaces are not in libvirt 9.0's schema of this document, so they are not listed.
 */
final class DomainCapabilitiesXml {
    private DomainCapabilitiesXml() {
    }

    static String format(String emulator, String arch, int maxVcpus) {
        Xml x = new Xml();
        x.open("domainCapabilities");
        x.text("path", emulator);
        x.text("domain", "kvmtool");
        x.text("arch", arch);
        x.empty("vcpu", "max", maxVcpus);
        x.empty("iothreads", "supported", "no");
        x.open("os", "supported", "yes");
        x.empty("enum", "name", "firmware");
        x.empty("loader", "supported", "no");
        x.close();
        x.open("cpu");
        x.empty("mode", "name", "host-passthrough", "supported", "yes");
        x.empty("mode", "name", "maximum", "supported", "no");
        x.empty("mode", "name", "host-model", "supported", "no");
        x.empty("mode", "name", "custom", "supported", "no");
        x.close();
        // this element lists <memoryBacking><source type>s: the codec takes none (only <hugepages/>, which it does
        // not describe), kvmtool maps guest RAM from anonymous memory or a hugetlbfs
        x.empty("memoryBacking", "supported", "no");
        x.open("devices");
        x.open("disk", "supported", "yes");
        values(x, "diskDevice", "disk");
        values(x, "bus", "virtio");
        x.close();
        x.empty("graphics", "supported", "no");
        x.empty("video", "supported", "no");
        x.empty("hostdev", "supported", "no");
        x.open("rng", "supported", "yes");
        values(x, "model", "virtio");
        values(x, "backendModel", "random");
        x.close();
        x.open("filesystem", "supported", "yes");
        values(x, "driverType", "path");
        x.close();
        x.empty("tpm", "supported", "no");
        x.empty("redirdev", "supported", "no");
        x.empty("channel", "supported", "no");
        x.close();
        x.open("features");
        x.empty("vmcoreinfo", "supported", "no");
        x.empty("genid", "supported", "no");
        x.empty("backingStoreInput", "supported", "no");
        x.empty("backup", "supported", "no");
        x.empty("sev", "supported", "no");
        x.empty("sgx", "supported", "no");
        x.empty("hyperv", "supported", "no");
        x.close();
        return x.close().toString();
    }

    private static void values(Xml x, String name, String... values) {
        x.open("enum", "name", name);
        for (String v : values) {
            x.text("value", v);
        }
        x.close();
    }
}
