package org.kvmtool.manager.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.StateReason;

/** Each command's completion offers the domains the driver would let it act on, and only those. */
class DomainCompletersTest {
    private static DomainInfo dom(String name, DomainState state, StateReason reason, boolean persistent) {
        boolean active = state.isActive();
        return new DomainInfo(name, UUID.randomUUID(), active ? 1 : -1, state, reason, persistent, false,
                active ? 100 : -1, 1, 64 << 20, 64 << 20, null, 0, List.of());
    }

    /** One domain of each kind, named by what it is. */
    private static final List<DomainInfo> DOMAINS = List.of(
            dom("off", DomainState.SHUTOFF, StateReason.SHUTOFF_UNKNOWN, true),
            dom("run", DomainState.RUNNING, StateReason.BOOTED, true),
            dom("pause", DomainState.PAUSED, StateReason.PAUSED_USER, true),
            dom("down", DomainState.SHUTDOWN, StateReason.SHUTDOWN_USER, true),
            dom("trun", DomainState.RUNNING, StateReason.BOOTED, false));

    private static List<String> offered(DomainCompleters.Base completer) {
        List<String> out = new ArrayList<>();
        DOMAINS.stream().filter(completer::offers).forEach(d -> out.add(d.name()));
        return out;
    }

    @Test
    void everyCommandIsOfferedTheDomainsItMayActOn() {
        Map<DomainCompleters.Base, List<String>> expected = Map.ofEntries(
                Map.entry(new DomainCompleters.Start(), List.of("off")),
                Map.entry(new DomainCompleters.Shutdown(), List.of("run", "down", "trun")),
                Map.entry(new DomainCompleters.Destroy(), List.of("run", "pause", "down", "trun")),
                Map.entry(new DomainCompleters.Reboot(), List.of("run", "trun")),
                Map.entry(new DomainCompleters.Suspend(), List.of("run", "trun")),
                Map.entry(new DomainCompleters.Resume(), List.of("pause")),
                Map.entry(new DomainCompleters.Undefine(), List.of("off", "run", "pause", "down")),
                Map.entry(new DomainCompleters.Autostart(), List.of("off", "run", "pause", "down")),
                Map.entry(new DomainCompleters.SetMemory(), List.of("off", "run", "pause", "down", "trun")),
                Map.entry(new DomainCompleters.Console(), List.of("run", "pause", "down", "trun")),
                Map.entry(new DomainCompleters.Active(), List.of("run", "pause", "down", "trun")),
                Map.entry(new DomainCompleters.Any(), List.of("off", "run", "pause", "down", "trun")));
        expected.forEach((completer, names) ->
                assertEquals(names, offered(completer), completer.getClass().getSimpleName()));
    }
}
