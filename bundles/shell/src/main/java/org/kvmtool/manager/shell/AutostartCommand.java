package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "autostart", description = "Start a domain when the manager starts")
@Service
public class AutostartCommand extends OptionsAfterDomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Autostart.class)
    String domain;

    @Option(name = "--disable", description = "do not start it with the manager")
    boolean disable;

    @Override
    void run(PrintStream out) {
        driver.setAutostart(domain, !disable);
        out.println("Domain '" + domain + "' " + (disable ? "unmarked as autostarted" : "marked as autostarted"));
    }
}
