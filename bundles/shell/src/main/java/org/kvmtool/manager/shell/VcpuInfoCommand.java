package org.kvmtool.manager.shell;

import java.io.PrintStream;
import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

@Command(scope = "kvmtool", name = "vcpuinfo", description = "Per-vCPU information of a running domain: thread and CPU time")
@Service
public class VcpuInfoCommand extends DomainAction {
    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Active.class)
    String domain;

    @Override
    void run(PrintStream out) {
        DomainInfo d = require(domain);
        if (!d.isActive()) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID,
                    "domain is not running");
        }
        CgroupStats s = driver.stats(d.name());
        List<Long> tids = d.vcpuThreadIds();
        for (int i = 0; i < d.vcpus(); i++) {
            out.println(Virsh.field("VCPU", Integer.toString(i)));
            out.println(Virsh.field("Thread", i < tids.size() ? Long.toString(tids.get(i)) : "-"));
            out.println(Virsh.field("State", d.state() == DomainState.PAUSED ? "paused" : "running"));
            out.println(Virsh.field("CPU time", i < s.vcpuTimesNanos().size() ? Virsh.seconds(s.vcpuTimesNanos().get(i)) : "-"));
            out.println();
        }
    }
}
