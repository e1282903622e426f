package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "resume", description = "Resume a paused domain")
@Service
public class ResumeCommand extends DomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Resume.class)
    String domain;

    @Override
    void run(PrintStream out) {
        driver.resume(domain);
        out.println("Domain '" + domain + "' resumed");
    }
}
