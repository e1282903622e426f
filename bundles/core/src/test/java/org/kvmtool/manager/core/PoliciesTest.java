package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ExitInfo.Kind;
import org.kvmtool.manager.api.StateReason;
import org.kvmtool.manager.core.fakes.FakeCodec;

class PoliciesTest {
    private final FakeCodec codec = new FakeCodec();
    private final DomainDefinition plain = codec.parse(FakeCodec.xml("vm"));
    private final DomainDefinition restarts = codec.parse(FakeCodec.xml("vm",
            "<on_poweroff>restart</on_poweroff><on_crash>restart</on_crash>"));

    @Test
    void aNormalExitNobodyAskedForIsAPoweroff() {
        assertEquals(new LifecyclePolicy.Decision(StateReason.SHUTDOWN, false),
                LifecyclePolicy.onExit(Kind.NORMAL, false, DomainState.RUNNING, plain));
        assertEquals(new LifecyclePolicy.Decision(StateReason.SHUTDOWN, true),
                LifecyclePolicy.onExit(Kind.NORMAL, false, DomainState.RUNNING, restarts));
    }

    @Test
    void aSignalOrNonZeroExitIsACrashAndOnCrashApplies() {
        for (Kind k : new Kind[] {Kind.SIGNALED, Kind.FAILED}) {
            assertEquals(new LifecyclePolicy.Decision(StateReason.CRASHED, false),
                    LifecyclePolicy.onExit(k, false, DomainState.RUNNING, plain));
            assertEquals(new LifecyclePolicy.Decision(StateReason.CRASHED, true),
                    LifecyclePolicy.onExit(k, false, DomainState.PAUSED, restarts));
        }
    }

    @Test
    void whatTheUserEndedIsNeverRestarted() {
        for (Kind k : Kind.values()) {
            assertEquals(new LifecyclePolicy.Decision(StateReason.DESTROYED, false),
                    LifecyclePolicy.onExit(k, true, DomainState.RUNNING, restarts));
            assertFalse(LifecyclePolicy.onExit(k, false, DomainState.SHUTDOWN, restarts).restart());
        }
        assertEquals(StateReason.SHUTDOWN, LifecyclePolicy.onExit(Kind.NORMAL, false, DomainState.SHUTDOWN, restarts).reason());
        assertEquals(StateReason.CRASHED, LifecyclePolicy.onExit(Kind.SIGNALED, false, DomainState.SHUTDOWN, restarts).reason());
    }

    @Test
    void reattachDecisions() {
        for (boolean stop : new boolean[] {false, true}) {
            for (boolean socket : new boolean[] {false, true}) {
                for (boolean started : new boolean[] {false, true}) {
                    assertTrue(ReattachPolicy.decide(true, stop, socket, started).adopt(), "a live lkvm is always adopted");
                }
            }
        }
        assertEquals(StateReason.SHUTDOWN, ReattachPolicy.decide(false, false, false, true).shutoffReason());
        assertEquals(StateReason.CRASHED, ReattachPolicy.decide(false, false, true, true).shutoffReason());
        assertEquals(StateReason.DESTROYED, ReattachPolicy.decide(false, true, true, true).shutoffReason());
        assertEquals(StateReason.DESTROYED, ReattachPolicy.decide(false, true, false, true).shutoffReason());
        // a start cut short whose lkvm is gone (or never ran) failed, unless a destroy had been asked
        assertEquals(StateReason.FAILED, ReattachPolicy.decide(false, false, false, false).shutoffReason());
        assertEquals(StateReason.FAILED, ReattachPolicy.decide(false, false, true, false).shutoffReason());
        assertEquals(StateReason.DESTROYED, ReattachPolicy.decide(false, true, false, false).shutoffReason());
    }

    @Test
    void aZombieOrARecycledPidHasEnded(@org.junit.jupiter.api.io.TempDir java.nio.file.Path proc) throws Exception {
        java.nio.file.Path d = java.nio.file.Files.createDirectories(proc.resolve("42"));
        var me = new org.kvmtool.manager.api.ProcessIdentity(42, 777, java.util.List.of("lkvm"));
        String rest = " 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 9 0 777 1000 100";
        java.nio.file.Files.writeString(d.resolve("stat"), "42 (lkvm (x)) S" + rest);
        assertFalse(ProcState.zombie(proc, me));
        java.nio.file.Files.writeString(d.resolve("stat"), "42 (lkvm (x)) Z" + rest);
        assertTrue(ProcState.zombie(proc, me));
        java.nio.file.Files.writeString(d.resolve("stat"), "42 (other) S" + rest.replace(" 777 ", " 778 "));
        assertTrue(ProcState.zombie(proc, me));
        assertFalse(ProcState.zombie(proc, new org.kvmtool.manager.api.ProcessIdentity(43, 1, java.util.List.of())),
                "no /proc entry: not for this function to say");
        assertFalse(ProcState.zombie(java.nio.file.Path.of("/proc"), new org.kvmtool.manager.api.ProcessIdentity(
                ProcessHandle.current().pid(), startTime(), java.util.List.of())));
    }

    private static long startTime() throws Exception {
        String s = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat"));
        return Long.parseLong(s.substring(s.lastIndexOf(')') + 2).split(" ")[19]);
    }

    @Test
    void lkvmsOwnWordsAreFound() {
        assertEquals("Fatal: Your CPU does not support hardware virtualization", LkvmMessages.failureLine(
                "  Info: # lkvm run -k k\r\n  Fatal: Your CPU does not support hardware virtualization\r\n"));
        assertEquals("Your CPU does not support hardware virtualization",
                LkvmMessages.failureLine("Your CPU does not support hardware virtualization\n"));
        assertEquals("Error: Unable to open /dev/kvm: Permission denied",
                LkvmMessages.failureLine("  Warning: x\n  Error: Unable to open /dev/kvm: Permission denied\n"));
        // as lkvm prints it: the reason, then the generic fatal line; an earlier run's words are not this run's
        assertEquals("Error: Your CPU does not support hardware virtualization; Fatal: Initialisation failed",
                LkvmMessages.failureLine("  Info: # lkvm run -k a --name x\r\n  Fatal: old\r\nGUEST READY\r\n"
                        + "  Info: # lkvm run -k k -m 64 -c 1 --name x\r\n  Error: Your CPU does not support hardware virtualization\r\n"
                        + "  Warning: Failed init: kvm__init\r\n\r\n  Fatal: Initialisation failed\r\n"));
        assertEquals(null, LkvmMessages.failureLine("GUEST READY\r\n"));
    }
}
