package org.kvmtool.manager.shell;

import java.io.PrintStream;
import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.DomainInfo;

@Command(scope = "kvmtool", name = "domstats", description = "Statistics of domains (all when none is named), as virsh domstats prints them")
@Service
public class DomStatsCommand extends DomainAction {
    @Argument(index = 0, name = "domains", description = "domain names", multiValued = true)
    @Completion(DomainCompleters.Any.class)
    List<String> domains;

    @Override
    void run(PrintStream out) {
        List<DomainInfo> chosen = domains == null || domains.isEmpty() ? driver.list()
                : domains.stream().map(n -> require(n)).toList();
        for (DomainInfo d : chosen) {
            CgroupStats s = driver.stats(d.name());
            out.println("Domain: '" + d.name() + "'");
            out.println("  state.state=" + d.state().libvirtCode());
            out.println("  state.reason=" + d.reason().libvirtCode());
            out.println("  cpu.time=" + s.cpuTimeNanos());
            out.println("  balloon.current=" + (d.currentMemoryBytes() >> 10));
            out.println("  balloon.maximum=" + (d.maxMemoryBytes() >> 10));
            out.println("  balloon.rss=" + (s.memoryUsageBytes() >> 10));
            out.println("  vcpu.current=" + d.vcpus());
            out.println("  vcpu.maximum=" + d.vcpus());
            for (int i = 0; i < s.vcpuTimesNanos().size(); i++) {
                out.println("  vcpu." + i + ".state=1");
                out.println("  vcpu." + i + ".time=" + s.vcpuTimesNanos().get(i));
            }
            out.println();
        }
    }
}
