package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.kvmtool.manager.api.DomainInfo;

@Command(scope = "kvmtool", name = "domstate", description = "The state of a domain")
@Service
public class DomStateCommand extends OptionsAfterDomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Any.class)
    String domain;

    @Option(name = "--reason", description = "also print the reason for the state")
    boolean reason;

    @Override
    void run(PrintStream out) {
        DomainInfo d = require(domain);
        out.println(Virsh.stateWord(d.state()) + (reason ? " (" + d.reason().word() + ")" : ""));
    }
}
