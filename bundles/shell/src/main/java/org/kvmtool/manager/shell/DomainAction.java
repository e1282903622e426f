package org.kvmtool.manager.shell;

import java.io.PrintStream;
import java.util.List;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.support.CommandException;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Base of every command: commands hold no logic, they call the driver and print. A driver error is
 * printed the way virsh prints it ("error: domain is not running") and fails the command.
 */
abstract class DomainAction implements Action {
    @Reference
    DomainDriver driver;

    @Override
    public final Object execute() throws Exception {
        try {
            TrailingOptions.apply(this, getClass().getAnnotation(Command.class).name(), trailingOptions());
            run(System.out);
            return null;
        } catch (KvmtoolException e) {
            throw new CommandException("error: " + e.getMessage(), e.getMessage(), e);
        }
    }

    abstract void run(PrintStream out) throws Exception;

    /** What followed the domain on the command line, for commands whose virsh twin takes options there. */
    List<String> trailingOptions() {
        return null;
    }

    /** The named domain, or virsh's error for a name that does not resolve. */
    final DomainInfo require(String name) {
        return driver.lookup(name).orElseThrow(
                () -> new KvmtoolException(ErrorCode.NO_DOMAIN, "failed to get domain '" + name + "'"));
    }
}
