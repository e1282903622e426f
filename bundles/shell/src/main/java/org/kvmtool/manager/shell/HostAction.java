package org.kvmtool.manager.shell;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.kvmtool.manager.api.HostService;

/** Base of the host commands: the host's facts beside the driver (for the configured lkvm). */
abstract class HostAction extends DomainAction {
    @Reference
    HostService host;
}
