package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "start", description = "Start a (previously defined) inactive domain")
@Service
public class StartCommand extends OptionsAfterDomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Start.class)
    String domain;

    @Option(name = "--paused", description = "leave the guest paused after it is started")
    boolean paused;

    @Override
    void run(PrintStream out) {
        if (paused) {
            driver.startPaused(domain);
        } else {
            driver.start(domain);
        }
        out.println("Domain '" + domain + "' started");
    }
}
