package org.kvmtool.manager.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class OperationTest {
    /**
     * The expected table, written out independently of the enum: one row per operation, one cell per state
     * (shutoff, running, paused, shutdown): "ok" or the refusal message the driver gives today.
     */
    private static final String TABLE = """
            start         | ok | domain is already running | domain is already running | domain is already running
            shutdown      | domain is not running | ok | domain is paused | ok
            destroy       | domain is not running | ok | ok | ok
            reboot        | domain is not running | ok | domain is not running | domain is not running
            suspend       | domain is not running | ok | domain is already paused | domain is not running
            resume        | domain is not running | domain is not paused | ok | domain is not paused
            undefine      | ok | ok | ok | ok
            setMemory     | ok | ok | ok | ok
            setAutostart  | ok | ok | ok | ok
            sendConsole   | domain is not running | ok | ok | ok
            memoryStats   | domain is not running | ok | domain is not running | domain is not running
            """;
    private static final List<DomainState> COLUMNS = List.of(DomainState.SHUTOFF, DomainState.RUNNING,
            DomainState.PAUSED, DomainState.SHUTDOWN);

    private static Map<String, Map<DomainState, String>> expected() {
        Map<String, Map<DomainState, String>> rows = new HashMap<>();
        for (String line : TABLE.strip().split("\n")) {
            String[] cells = line.split("\\|");
            Map<DomainState, String> row = new HashMap<>();
            assertEquals(COLUMNS.size() + 1, cells.length, line);
            for (int i = 0; i < COLUMNS.size(); i++) {
                row.put(COLUMNS.get(i), cells[i + 1].strip());
            }
            rows.put(cells[0].strip(), row);
        }
        return rows;
    }

    @Test
    void everyStateAndOperationIsAllowedOrRefusedWithTodaysMessage() {
        Map<String, Map<DomainState, String>> table = expected();
        assertEquals(Operation.values().length, table.size(), "one row per operation");
        int pairs = 0;
        for (Operation op : Operation.values()) {
            Map<DomainState, String> row = table.get(op.mbeanName());
            for (DomainState state : DomainState.values()) {
                String cell = row.get(state);
                Optional<String> refusal = op.refusal(state, true, "vm");
                assertEquals(cell, refusal.orElse("ok"), op + " in " + state);
                assertEquals(cell.equals("ok"), op.isAllowed(state, true), op + " in " + state);
                assertEquals(cell.equals("ok"), Operation.allowed(state, true).contains(op), op + " in " + state);
                if (cell.equals("ok")) {
                    op.check(state, true, "vm");
                } else {
                    KvmtoolException e = assertThrows(KvmtoolException.class, () -> op.check(state, true, "vm"));
                    assertEquals(ErrorCode.OPERATION_INVALID, e.code());
                    assertEquals(cell, e.getMessage());
                }
                pairs++;
            }
        }
        assertEquals(Operation.values().length * DomainState.values().length, pairs);
    }

    @Test
    void aTransientDomainMayNeitherBeUndefinedNorAutostartedInAnyState() {
        for (DomainState state : DomainState.values()) {
            assertEquals(Optional.of("cannot undefine transient domain 'vm'"), Operation.UNDEFINE.refusal(state, false, "vm"));
            assertEquals(Optional.of("cannot set autostart for transient domain 'vm'"),
                    Operation.SET_AUTOSTART.refusal(state, false, "vm"));
            for (Operation op : Operation.values()) {
                if (op != Operation.UNDEFINE && op != Operation.SET_AUTOSTART) {
                    assertEquals(op.refusal(state, true, "vm"), op.refusal(state, false, "vm"), op + " in " + state);
                }
            }
        }
    }

    @Test
    void allowedSetsKeepTheEnumsOrder() {
        List<String> running = new ArrayList<>();
        Operation.allowed(DomainState.RUNNING, true).forEach(op -> running.add(op.mbeanName()));
        assertEquals(List.of("shutdown", "destroy", "reboot", "suspend", "undefine", "setMemory", "setAutostart",
                "sendConsole", "memoryStats"), running);
        List<String> transientShutoff = new ArrayList<>();
        Operation.allowed(DomainState.SHUTOFF, false).forEach(op -> transientShutoff.add(op.mbeanName()));
        assertEquals(List.of("start", "setMemory"), transientShutoff);
    }

    @Test
    void domainInfoCarriesItsAllowedOperations() {
        DomainInfo paused = new DomainInfo("vm", java.util.UUID.randomUUID(), 3, DomainState.PAUSED,
                StateReason.PAUSED_USER, false, false, 42, 1, 1 << 26, 1 << 26, "/dev/pts/1", 1, List.of());
        assertEquals(Operation.allowed(DomainState.PAUSED, false), paused.allowedOperations());
        assertEquals(List.of(Operation.DESTROY, Operation.RESUME, Operation.SET_MEMORY, Operation.CONSOLE),
                List.copyOf(paused.allowedOperations()));
    }
}
