package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.core.fakes.FakeCodec;

class LkvmIpcTest {
    private static final KvmtoolException RESET = new KvmtoolException(ErrorCode.OPERATION_FAILED,
            "cannot read from /run/h/.lkvm/vm.sock: Connection reset by peer");

    private static DomainRun run() {
        FakeCodec codec = new FakeCodec();
        var def = codec.parse(FakeCodec.xml("vm"));
        DomainRun run = new DomainRun(1, def, codec.format(def), "/run/h", "/run/h/.lkvm/vm.sock");
        run.process = new ProcessIdentity(42, 7, List.of("lkvm"));
        return run;
    }

    @Test
    void theFailureOfAnEndedLkvmMeansTheDomainIsNotRunning() {
        KvmtoolException said = LkvmIpc.reinterpret(RESET, true);
        assertEquals(ErrorCode.OPERATION_INVALID, said.code());
        assertEquals("domain is not running", said.getMessage());
        assertSame(RESET, said.getCause());
        assertSame(RESET, LkvmIpc.reinterpret(RESET, false), "a live lkvm's failure is reported as it is");
    }

    @Test
    void aRequestGoesToTheRunsSocketAndItsFailureIsJudgedByTheProcess() {
        LkvmIpc toLive = new LkvmIpc(new StubSpawner(true), Duration.ofMillis(20));
        assertEquals("/run/h/.lkvm/vm.sock", toLive.ask(run(), socket -> socket));
        assertSame(RESET, assertThrows(KvmtoolException.class, () -> toLive.send(run(), socket -> {
            throw RESET;
        })));
        LkvmIpc toEnded = new LkvmIpc(new StubSpawner(false), Duration.ofMillis(20));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> toEnded.ask(run(), socket -> {
            throw RESET;
        }));
        assertEquals("domain is not running", e.getMessage());
    }
}
