package org.kvmtool.manager.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.apache.karaf.shell.api.action.Option;
import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

class TrailingOptionsTest {
    static class Cmd {
        @Option(name = "--reason")
        boolean reason;
        @Option(name = "--set", aliases = "-s")
        String set;
    }

    @Test
    void optionsAfterTheDomainSetTheFieldsKarafWouldHaveSet() {
        Cmd c = new Cmd();
        TrailingOptions.apply(c, "x", List.of("--reason", "--set", "cpu_shares=5"));
        assertTrue(c.reason);
        assertEquals("cpu_shares=5", c.set);
        Cmd d = new Cmd();
        TrailingOptions.apply(d, "x", List.of("--set=cpu_shares=7"));
        assertEquals("cpu_shares=7", d.set);
        Cmd e = new Cmd();
        TrailingOptions.apply(e, "x", List.of("-s", "a=b"));
        assertEquals("a=b", e.set);
    }

    @Test
    void nothingAfterTheDomainChangesNothing() {
        Cmd c = new Cmd();
        TrailingOptions.apply(c, "x", null);
        TrailingOptions.apply(c, "x", List.of());
        assertNull(c.set);
    }

    @Test
    void whatVirshWouldRefuseIsRefusedInItsWords() {
        KvmtoolException unknown = assertThrows(KvmtoolException.class,
                () -> TrailingOptions.apply(new Cmd(), "domstate", List.of("--live")));
        assertEquals("command 'domstate' doesn't support option --live", unknown.getMessage());
        assertEquals(ErrorCode.INVALID_ARG, unknown.code());
        assertEquals("unexpected data 'extra'",
                assertThrows(KvmtoolException.class, () -> TrailingOptions.apply(new Cmd(), "x", List.of("extra")))
                        .getMessage());
        assertEquals("option --set needs a value",
                assertThrows(KvmtoolException.class, () -> TrailingOptions.apply(new Cmd(), "x", List.of("--set")))
                        .getMessage());
        assertEquals("option --reason takes no value",
                assertThrows(KvmtoolException.class, () -> TrailingOptions.apply(new Cmd(), "x", List.of("--reason=1")))
                        .getMessage());
    }
}
