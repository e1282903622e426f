package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "dumpxml", description = "Print the domain definition as libvirt XML")
@Service
public class DumpXmlCommand extends DomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Any.class)
    String domain;

    @Override
    void run(PrintStream out) {
        out.print(driver.dumpXml(domain));
    }
}
