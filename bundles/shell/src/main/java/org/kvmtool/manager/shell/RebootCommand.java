package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "reboot", description = "Reboot a domain (kvmtool has no reboot: stop and start)")
@Service
public class RebootCommand extends DomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Reboot.class)
    String domain;

    @Override
    void run(PrintStream out) {
        driver.reboot(domain);
        out.println("Domain '" + domain + "' is being rebooted");
    }
}
