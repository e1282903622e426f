package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "setmem", description = "Set the memory of a domain through its balloon (KiB, or with a unit: 512M, 1G)")
@Service
public class SetMemCommand extends DomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.SetMemory.class)
    String domain;

    @Argument(index = 1, name = "size", description = "the new memory size (KiB unless a unit is given)", required = true)
    String size;

    @Override
    void run(PrintStream out) {
        driver.setMemory(domain, Virsh.parseSize(size));
    }
}
