package org.kvmtool.manager.shell;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;

/** Completers that offer only the domains an action makes sense for. */
final class DomainCompleters {
    private DomainCompleters() {
    }

    abstract static class Base implements Completer {
        @Reference
        DomainDriver driver;

        abstract boolean offers(DomainInfo d);

        @Override
        public int complete(Session session, CommandLine commandLine, List<String> candidates) {
            StringsCompleter names = new StringsCompleter();
            driver.list().stream().filter(this::offers).map(DomainInfo::name).forEach(names.getStrings()::add);
            return names.complete(session, commandLine, candidates);
        }

        static boolean in(DomainInfo d, DomainState... states) {
            return List.of(states).contains(d.state());
        }
    }

    @Service
    public static final class Any extends Base {
        @Override
        boolean offers(DomainInfo d) {
            return true;
        }
    }

    /** Domains that can be started. */
    @Service
    public static final class Inactive extends Base {
        @Override
        boolean offers(DomainInfo d) {
            return !d.isActive();
        }
    }

    /** Domains with an lkvm process (destroy, console, dominfo of live figures). */
    @Service
    public static final class Active extends Base {
        @Override
        boolean offers(DomainInfo d) {
            return d.isActive();
        }
    }

    /** Domains that can be suspended, shut down or rebooted. */
    @Service
    public static final class Running extends Base {
        @Override
        boolean offers(DomainInfo d) {
            return in(d, DomainState.RUNNING);
        }
    }

    @Service
    public static final class Paused extends Base {
        @Override
        boolean offers(DomainInfo d) {
            return in(d, DomainState.PAUSED);
        }
    }

    /** Persistent domains (undefine, autostart). */
    @Service
    public static final class Persistent extends Base {
        @Override
        boolean offers(DomainInfo d) {
            return d.persistent();
        }
    }

}
