package org.kvmtool.manager.shell;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.kvmtool.manager.api.DomainDriver;

@Command(scope = "kvmtool", name = "create", description = "Create and start a transient domain from a libvirt XML file")
@Service
public class CreateCommand extends XmlFileAction {
    public CreateCommand() {
        super("created", DomainDriver::create);
    }
}
