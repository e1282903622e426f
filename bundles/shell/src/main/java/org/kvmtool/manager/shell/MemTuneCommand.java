package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "memtune", description = "Show or set the memory hard limit of a domain")
@Service
public class MemTuneCommand extends OptionsAfterDomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Any.class)
    String domain;

    @Option(name = "--hard-limit", description = "the hard limit (KiB unless a unit is given; -1 = unlimited)")
    String hardLimit;

    @Override
    void run(PrintStream out) {
        require(domain);
        if (hardLimit != null) {
            driver.setMemoryLimit(domain, hardLimit.trim().equals("-1") ? -1 : Virsh.parseSize(hardLimit));
        }
        long limit = driver.stats(domain).memoryLimitBytes();
        out.println(Virsh.field("hard_limit", limit < 0 ? "unlimited" : Long.toString(limit >> 10)));
    }
}
