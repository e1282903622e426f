package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "nodeinfo", description = "The host's CPUs, topology and memory, as virsh nodeinfo prints them")
@Service
public class NodeInfoCommand extends HostAction {
    @Override
    void run(PrintStream out) {
        out.print(HostText.nodeInfo(host.nodeInfo()));
    }
}
