package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "shutdown", description = "Gracefully shut down a domain (SysRq s, u, b)")
@Service
public class ShutdownCommand extends DomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Shutdown.class)
    String domain;

    @Override
    void run(PrintStream out) {
        driver.shutdown(domain);
        out.println("Domain '" + domain + "' is being shutdown");
    }
}
