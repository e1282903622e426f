package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.kvmtool.manager.api.ManagerInfo;

@Command(scope = "kvmtool", name = "version", description = "Versions of the manager and of the hypervisor")
@Service
public class VersionCommand extends DomainAction {
    @Override
    void run(PrintStream out) {
        ManagerInfo m = driver.managerInfo();
        out.println("Using kvmtool-manager: " + m.version());
        out.println("Using API: KVMTOOL " + m.version());
        out.println("Running hypervisor: " + (m.hypervisor().available()
                ? "KVMTOOL " + m.hypervisor().version()
                : "unavailable (" + m.hypervisor().reason() + ")"));
        out.println("Connection URI: " + m.uri());
    }
}
