package org.kvmtool.manager.shell;

import java.io.PrintStream;
import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.DomainInfo;

@Command(scope = "kvmtool", name = "dominfo", description = "Basic information about a domain")
@Service
public class DomInfoCommand extends DomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Any.class)
    String domain;

    @Override
    void run(PrintStream out) {
        DomainInfo d = require(domain);
        CgroupStats s = driver.stats(d.name());
        out.print(Virsh.keyValues(List.of(
                new String[] {"Id", d.id() >= 0 ? Integer.toString(d.id()) : "-"},
                new String[] {"Name", d.name()},
                new String[] {"UUID", d.uuid().toString()},
                new String[] {"OS Type", "hvm"},
                new String[] {"State", Virsh.stateWord(d.state())},
                new String[] {"CPU(s)", Integer.toString(d.vcpus())},
                new String[] {"CPU time", Virsh.seconds(s.cpuTimeNanos())},
                new String[] {"Max memory", (d.maxMemoryBytes() >> 10) + " KiB"},
                new String[] {"Used memory", (d.currentMemoryBytes() >> 10) + " KiB"},
                new String[] {"Persistent", d.persistent() ? "yes" : "no"},
                new String[] {"Autostart", d.autostart() ? "enable" : "disable"},
                new String[] {"Managed save", "no"},
                new String[] {"Security model", "none"},
                new String[] {"Security DOI", "0"},
                new String[] {"Pid", Long.toString(d.pid())},
                new String[] {"Console", d.consolePath() == null ? "-" : d.consolePath()})));
    }
}
