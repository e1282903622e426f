package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "suspend", description = "Suspend (pause) a running domain")
@Service
public class SuspendCommand extends DomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Suspend.class)
    String domain;

    @Override
    void run(PrintStream out) {
        driver.suspend(domain);
        out.println("Domain '" + domain + "' suspended");
    }
}
