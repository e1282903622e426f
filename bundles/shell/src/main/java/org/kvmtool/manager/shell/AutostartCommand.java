package org.kvmtool.manager.shell;

import java.io.PrintStream;
import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "autostart", description = "Start a domain when the manager starts")
@Service
public class AutostartCommand extends DomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Persistent.class)
    String domain;

    @Argument(index = 1, name = "options", description = "virsh's options may also follow the domain", multiValued = true)
    List<String> trailing;

    @Override
    List<String> trailingOptions() {
        return trailing;
    }

    @Option(name = "--disable", description = "do not start it with the manager")
    boolean disable;

    @Override
    void run(PrintStream out) {
        driver.setAutostart(domain, !disable);
        out.println("Domain '" + domain + "' " + (disable ? "unmarked as autostarted" : "marked as autostarted"));
    }
}
