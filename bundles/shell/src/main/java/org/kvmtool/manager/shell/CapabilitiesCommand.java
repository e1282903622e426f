package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "capabilities", description = "libvirt's capabilities XML of this host and of kvmtool")
@Service
public class CapabilitiesCommand extends HostAction {
    @Override
    void run(PrintStream out) {
        out.print(host.capabilitiesXml(driver.managerInfo()));
    }
}
