package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

@Command(scope = "kvmtool", name = "schedinfo", description = "Show or set the CPU shares of a domain")
@Service
public class SchedInfoCommand extends OptionsAfterDomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Any.class)
    String domain;

    @Option(name = "--set", description = "cpu_shares=N")
    String set;

    @Override
    void run(PrintStream out) {
        require(domain);
        if (set != null) {
            String[] kv = set.split("=", 2);
            if (kv.length != 2 || !kv[0].trim().equals("cpu_shares")) {
                throw new KvmtoolException(ErrorCode.INVALID_ARG, "invalid scheduler parameter '" + set
                        + "': kvmtool domains have only cpu_shares");
            }
            try {
                driver.setCpuShares(domain, Long.parseLong(kv[1].trim()));
            } catch (NumberFormatException e) {
                throw new KvmtoolException(ErrorCode.INVALID_ARG, "invalid value for cpu_shares: '" + kv[1] + "'");
            }
        }
        long shares = driver.stats(domain).cpuShares();
        out.println(Virsh.field("Scheduler", "posix"));
        out.println(Virsh.field("cpu_shares", shares < 0 ? "-" : Long.toString(shares)));
    }
}
