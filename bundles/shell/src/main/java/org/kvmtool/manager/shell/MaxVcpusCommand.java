package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "maxvcpus", description = "The most vCPUs a kvmtool guest can have on this host")
@Service
public class MaxVcpusCommand extends HostAction {
    @Override
    void run(PrintStream out) {
        out.println(host.maxVcpus());
    }
}
