package org.kvmtool.manager.shell;

import java.io.PrintStream;
import java.util.List;
import java.util.function.Predicate;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;

@Command(scope = "kvmtool", name = "list", description = "List domains (active ones unless --all or --inactive)")
@Service
public class ListCommand extends DomainAction {
    @Option(name = "--all", description = "active and inactive domains")
    boolean all;
    @Option(name = "--inactive", description = "inactive domains only")
    boolean inactive;
    @Option(name = "--state-running", description = "running domains")
    boolean running;
    @Option(name = "--state-paused", description = "paused domains")
    boolean paused;
    @Option(name = "--state-shutoff", description = "shut off domains")
    boolean shutoff;
    @Option(name = "--state-other", description = "domains being shut down")
    boolean other;
    @Option(name = "--persistent", description = "persistent domains")
    boolean persistent;
    @Option(name = "--transient", description = "transient domains")
    boolean transientOnly;
    @Option(name = "--autostart", description = "domains marked for autostart")
    boolean autostart;
    @Option(name = "--name", description = "names only, one a line")
    boolean namesOnly;

    @Override
    void run(PrintStream out) {
        List<DomainInfo> shown = driver.list().stream().filter(filter()).toList();
        if (namesOnly) {
            shown.forEach(d -> out.println(d.name()));
        } else {
            out.print(Virsh.listTable(shown));
        }
    }

    /** virsh semantics: state flags are OR-ed, then --persistent/--transient/--autostart narrow. */
    private Predicate<DomainInfo> filter() {
        Predicate<DomainInfo> byState;
        if (running || paused || shutoff || other) {
            byState = d -> running && d.state() == DomainState.RUNNING || paused && d.state() == DomainState.PAUSED
                    || shutoff && d.state() == DomainState.SHUTOFF || other && d.state() == DomainState.SHUTDOWN;
        } else if (all) {
            byState = d -> true;
        } else if (inactive) {
            byState = d -> !d.isActive();
        } else {
            byState = DomainInfo::isActive;
        }
        Predicate<DomainInfo> p = byState;
        if (persistent) {
            p = p.and(DomainInfo::persistent);
        }
        if (transientOnly) {
            p = p.and(d -> !d.persistent());
        }
        if (autostart) {
            p = p.and(DomainInfo::autostart);
        }
        return p;
    }
}
