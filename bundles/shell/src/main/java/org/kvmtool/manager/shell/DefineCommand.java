package org.kvmtool.manager.shell;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.kvmtool.manager.api.DomainDriver;

@Command(scope = "kvmtool", name = "define", description = "Define (but don't start) a domain from a libvirt XML file")
@Service
public class DefineCommand extends XmlFileAction {
    public DefineCommand() {
        super("defined", DomainDriver::define);
    }
}
