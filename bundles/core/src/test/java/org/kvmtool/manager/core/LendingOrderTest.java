package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.ImageLock;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.StateReason;
import org.kvmtool.manager.core.fakes.FakeCodec;

/**
 * Where the driver calls the security driver: prepare before the spawn (whose request carries the lease's
 * locks), restore at every end of a run (also the rollback), recover at activation for what no live run
 * holds. What a run was lent is also checked after every fake-host scenario ({@link Fixture#leftovers}).
 */
class LendingOrderTest extends FakeHostTest {
    @Test
    void theSpawnCarriesTheLeaseLocksAndTheEndGivesBack() {
        List<ImageLock> locks = List.of(new ImageLock("disk", "/img/a", true));
        f.security.extraLocks = locks;
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        assertEquals(locks, f.spawner.lastRequest.locks());
        assertEquals(Set.of("vm1"), f.security.lent.keySet());
        driver.destroy("vm1");
        assertEquals(List.of("recover []", "prepare vm1", "restore vm1"), f.security.calls);
        assertEquals(Set.of(), f.security.lent.keySet());
    }

    @Test
    void aFileThatCannotBeLentFailsTheStartWithItsOwnWordsAndLeavesNothing() throws Exception {
        driver.define(FakeCodec.xml("vm1"));
        f.security.failPrepare = new KvmtoolException(ErrorCode.SYSTEM_ERROR,
                "disk /img/x cannot be lent to uid 999: it is a FIFO, not a regular file or block device");
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("vm1"));
        assertEquals("disk /img/x cannot be lent to uid 999: it is a FIFO, not a regular file or block device", e.getMessage());
        assertEquals(StateReason.FAILED, driver.lookup("vm1").orElseThrow().reason());
        assertEquals(List.of("recover []", "prepare vm1", "restore vm1"), f.security.calls, "the one rollback gives back");
        assertEquals(List.of(), f.leftovers());
        assertEquals(0, f.host.alive().size(), "no lkvm was spawned");
    }

    @Test
    void activationGivesBackWhatNoLiveRunHolds() throws Exception {
        for (String n : List.of("alive", "dead")) {
            driver.define(FakeCodec.xml(n));
            driver.start(n);
        }
        driver.deactivate();
        f.host.aliveNamed("dead").get(0).kill(9);
        // a start cut after its files were lent and before its status file: the record alone is left
        f.security.prepare(f.settings.lentDir(), new FakeCodec().parse(FakeCodec.xml("cut")), 999, 999, List.of());
        f.security.calls.clear();
        driver = f.activate();
        assertEquals(Set.of("alive"), f.security.lent.keySet());
        assertEquals(List.of("recover [alive, dead]", "restore dead"), f.security.calls,
                "the cut start at recovery, before any reattach; the dead run when its end is handled");
        driver.destroy("alive");
        assertEquals(List.of(), f.leftovers());
    }
}
