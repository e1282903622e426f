package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "domcapabilities", description = "libvirt's domain capabilities XML: what a kvmtool guest can have")
@Service
public class DomCapabilitiesCommand extends HostAction {
    @Option(name = "--virttype", description = "the domain type (kvmtool)")
    String virtType;
    @Option(name = "--emulatorbin", description = "the lkvm binary (the configured one)")
    String emulator;
    @Option(name = "--arch", description = "the guest arch (the host's)")
    String arch;
    @Option(name = "--machine", description = "the machine type (kvmtool has none)")
    String machine;

    @Override
    void run(PrintStream out) {
        out.print(host.domainCapabilitiesXml(driver.managerInfo(), emulator, arch, machine, virtType));
    }
}
