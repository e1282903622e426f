package org.kvmtool.manager.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "sysinfo", description = "The host's SMBIOS data as libvirt's sysinfo XML")
@Service
public class SysinfoCommand extends HostAction {
    @Override
    void run(PrintStream out) {
        out.print(host.sysinfoXml());
    }
}
