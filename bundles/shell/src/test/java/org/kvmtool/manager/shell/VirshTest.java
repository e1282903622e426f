package org.kvmtool.manager.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.StateReason;

class VirshTest {
    private static DomainInfo dom(String name, int id, DomainState state, StateReason reason) {
        return new DomainInfo(name, UUID.randomUUID(), id, state, reason, true, false, id > 0 ? 100 + id : -1, 1,
                64 << 20, 64 << 20, null, 0, List.of());
    }

    @Test
    void listLooksLikeVirsh() {
        String table = Virsh.listTable(List.of(dom("alpha", 1, DomainState.RUNNING, StateReason.BOOTED),
                dom("beta", -1, DomainState.SHUTOFF, StateReason.SHUTDOWN)));
        assertEquals(" Id   Name    State\n"
                + "------------------------\n"
                + " 1    alpha   running\n"
                + " -    beta    shut off\n", table);
    }

    @Test
    void emptyListHasHeaderOnly() {
        assertEquals(" Id   Name   State\n--------------------\n", Virsh.listTable(List.of()));
    }

    @Test
    void sizesAreKibUnlessAUnitIsGiven() {
        assertEquals(1024L, Virsh.parseSize("1"));
        assertEquals(512L << 20, Virsh.parseSize("512M"));
        assertEquals(1L << 30, Virsh.parseSize("1GiB"));
        assertEquals(1_000_000L, Virsh.parseSize("1MB"));
        assertEquals(7L, Virsh.parseSize("7b"));
    }

    @Test
    void badSizesAreInvalidArguments() {
        for (String bad : List.of("", "M", "12Q", "-5", "99999999999999999999")) {
            KvmtoolException e = assertThrows(KvmtoolException.class, () -> Virsh.parseSize(bad), bad);
            assertEquals(ErrorCode.INVALID_ARG, e.code());
        }
    }

    @Test
    void virshWordsForStates() {
        assertEquals("shut off", Virsh.stateWord(DomainState.SHUTOFF));
        assertEquals("in shutdown", Virsh.stateWord(DomainState.SHUTDOWN));
        assertEquals("Scheduler      : posix", Virsh.field("Scheduler", "posix"));
        assertEquals("123.5s", Virsh.seconds(123_456_000_000L));
    }
}
