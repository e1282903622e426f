package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "undefine", description = "Undefine a domain (a running one becomes transient)")
@Service
public class UndefineCommand extends DomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Undefine.class)
    String domain;

    @Override
    void run(PrintStream out) {
        driver.undefine(domain);
        out.println("Domain '" + domain + "' has been undefined");
    }
}
