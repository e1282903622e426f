package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.Hypervisor;
import org.kvmtool.manager.api.HypervisorInfo;
import org.kvmtool.manager.launch.argv.ArgvBuilder;
import org.kvmtool.manager.launch.argv.HostCapabilities;
import org.kvmtool.manager.launch.argv.LaunchPaths;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import java.util.List;

/** The lkvm binary: the probe, and the argv of a domain (built by the pure argv builder). */
// immediate: a delayed component is disposed with its last user, so an update of the driver would rebuild it
// (and a console service would drop every console's ring and reopen its pty); infrastructure outlives the driver
@Component(service = Hypervisor.class, immediate = true)
@Designate(ocd = LkvmHypervisor.Config.class)
public final class LkvmHypervisor implements Hypervisor {
    @ObjectClassDefinition(name = "kvmtool-manager hypervisor probe", description = "Finding lkvm")
    public @interface Config {
        @AttributeDefinition(description = "How long `lkvm version` may take, in milliseconds")
        long probe_timeout_millis() default 5_000;
    }

    /** kvmtool's x86 build: every console and device, and its KVM_NR_CPUS of 255 vCPUs a guest. */
    static final HostCapabilities HOST = HostCapabilities.x86_64(255);

    private final HypervisorProbe probe;

    @Activate
    public LkvmHypervisor(Config config) {
        this(new HypervisorProbe(System.getenv("PATH"), config.probe_timeout_millis()));
    }

    LkvmHypervisor(HypervisorProbe probe) {
        this.probe = probe;
    }

    @Override
    public HypervisorInfo probe(String configured) {
        return probe.probe(configured);
    }

    @Override
    public List<String> commandLine(DomainDefinition definition, String binary, String homeDir, String hugetlbfs) {
        return ArgvBuilder.build(definition, HOST, new LaunchPaths(binary, homeDir, hugetlbfs));
    }

    @Override
    public String socketPath(String homeDir, String name) {
        return ArgvBuilder.socketPath(homeDir, name);
    }
}
