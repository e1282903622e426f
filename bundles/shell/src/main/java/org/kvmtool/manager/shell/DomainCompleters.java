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
import org.kvmtool.manager.api.Operation;

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
    }

    @Service
    public static final class Any extends Base {
        @Override
        boolean offers(DomainInfo d) {
            return true;
        }
    }

    /** Domains with an lkvm process: for reads of live figures (vcpuinfo), which are no operation. */
    @Service
    public static final class Active extends Base {
        @Override
        boolean offers(DomainInfo d) {
            return d.isActive();
        }
    }

    /** Domains whose state and persistence admit {@code op} now: the driver's own table, not a restatement. */
    abstract static class Admitting extends Base {
        private final Operation op;

        Admitting(Operation op) {
            this.op = op;
        }

        @Override
        boolean offers(DomainInfo d) {
            return d.allowedOperations().contains(op);
        }
    }

    @Service
    public static final class Start extends Admitting {
        public Start() {
            super(Operation.START);
        }
    }

    @Service
    public static final class Shutdown extends Admitting {
        public Shutdown() {
            super(Operation.SHUTDOWN);
        }
    }

    @Service
    public static final class Destroy extends Admitting {
        public Destroy() {
            super(Operation.DESTROY);
        }
    }

    @Service
    public static final class Reboot extends Admitting {
        public Reboot() {
            super(Operation.REBOOT);
        }
    }

    @Service
    public static final class Suspend extends Admitting {
        public Suspend() {
            super(Operation.SUSPEND);
        }
    }

    @Service
    public static final class Resume extends Admitting {
        public Resume() {
            super(Operation.RESUME);
        }
    }

    @Service
    public static final class Undefine extends Admitting {
        public Undefine() {
            super(Operation.UNDEFINE);
        }
    }

    @Service
    public static final class Autostart extends Admitting {
        public Autostart() {
            super(Operation.SET_AUTOSTART);
        }
    }

    @Service
    public static final class SetMemory extends Admitting {
        public SetMemory() {
            super(Operation.SET_MEMORY);
        }
    }

    @Service
    public static final class Console extends Admitting {
        public Console() {
            super(Operation.CONSOLE);
        }
    }
}
