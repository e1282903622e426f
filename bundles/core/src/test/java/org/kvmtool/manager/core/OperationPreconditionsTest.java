package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ConsoleListener;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.Operation;
import org.kvmtool.manager.core.fakes.FakeCodec;

/** The driver over every (state, operation) pair: it admits and refuses exactly as {@link Operation} says. */
class OperationPreconditionsTest {
    @TempDir
    Path tmp;
    Fixture f;
    KvmtoolDriver driver;

    @BeforeEach
    void activate() {
        f = new Fixture(tmp);
        // long enough that no shutdown timer ends a domain held in "shutdown" while the test runs
        f.settings = f.settings.withTimeouts(f.settings.jobWaitTimeout(), f.settings.readyTimeout(),
                f.settings.destroyGrace(), Duration.ofMinutes(5));
        f.host.guestHonoursSysrq = false;
        driver = f.activate();
    }

    @AfterEach
    void close() {
        f.close();
    }

    private static final ConsoleListener IGNORE = data -> { };

    private Map<Operation, Consumer<String>> calls() {
        return Map.ofEntries(
                Map.entry(Operation.START, driver::start),
                Map.entry(Operation.SHUTDOWN, driver::shutdown),
                Map.entry(Operation.DESTROY, driver::destroy),
                Map.entry(Operation.REBOOT, driver::reboot),
                Map.entry(Operation.SUSPEND, driver::suspend),
                Map.entry(Operation.RESUME, driver::resume),
                Map.entry(Operation.UNDEFINE, driver::undefine),
                Map.entry(Operation.SET_MEMORY, n -> driver.setMemory(n, 32L << 20)),
                Map.entry(Operation.SET_AUTOSTART, n -> driver.setAutostart(n, true)),
                Map.entry(Operation.CONSOLE, n -> driver.sendConsole(n, "x")),
                Map.entry(Operation.MEMORY_STATS, driver::memoryStats));
    }

    /** A new domain brought to {@code state}; persistent (defined) or transient (created). */
    private String domainIn(DomainState state, Operation op, boolean persistent) {
        String name = (persistent ? "p-" : "t-") + state.word() + "-" + op.mbeanName().toLowerCase();
        if (persistent) {
            driver.define(FakeCodec.xml(name));
            if (state != DomainState.SHUTOFF) {
                driver.start(name);
            }
        } else {
            driver.create(FakeCodec.xml(name));
        }
        if (state == DomainState.PAUSED) {
            driver.suspend(name);
        } else if (state == DomainState.SHUTDOWN) {
            driver.shutdown(name); // the guest ignores SysRq here: it stays shutting down
        }
        assertEquals(state, driver.lookup(name).orElseThrow().state(), name);
        return name;
    }

    private void checkEveryPair(boolean persistent) {
        Map<Operation, Consumer<String>> calls = calls();
        assertEquals(Operation.values().length, calls.size(), "every operation is exercised");
        int pairs = 0;
        for (DomainState state : DomainState.values()) {
            if (!persistent && state == DomainState.SHUTOFF) {
                continue; // a transient domain that ends is gone
            }
            for (Operation op : Operation.values()) {
                String name = domainIn(state, op, persistent);
                DomainInfo before = driver.lookup(name).orElseThrow();
                assertEquals(Operation.allowed(state, persistent), before.allowedOperations(), name);
                Optional<String> refusal = op.refusal(state, persistent, name);
                if (refusal.isPresent()) {
                    KvmtoolException e = assertThrows(KvmtoolException.class, () -> calls.get(op).accept(name), name);
                    assertEquals(ErrorCode.OPERATION_INVALID, e.code(), name + ": " + e);
                    assertEquals(refusal.get(), e.getMessage(), name);
                    assertEquals(before.reason(), driver.lookup(name).orElseThrow().reason(), name + " unchanged");
                    if (op == Operation.CONSOLE) { // the other half of the console (the fake console cannot attach)
                        KvmtoolException a = assertThrows(KvmtoolException.class,
                                () -> driver.attachConsole(name, true, IGNORE), name);
                        assertEquals(refusal.get(), a.getMessage(), name);
                    }
                } else {
                    calls.get(op).accept(name); // admitted, and the fake host lets it succeed
                }
                pairs++;
            }
        }
        assertEquals(Operation.values().length * (persistent ? 4 : 3), pairs);
    }

    @Test
    void aPersistentDomainInEveryStateAdmitsExactlyTheTablesOperations() {
        checkEveryPair(true);
    }

    @Test
    void aTransientDomainInEveryStateAdmitsExactlyTheTablesOperations() {
        checkEveryPair(false);
    }
}
