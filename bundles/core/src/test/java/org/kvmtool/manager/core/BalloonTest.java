package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.core.fakes.FakeCodec;

class BalloonTest {
    private static final long MIB = 1024 * 1024;

    @Test
    void aStepIsWholeMibTowardTheTargetPositiveToInflate() {
        assertEquals(32, Balloon.stepMiB(64 * MIB, 32 * MIB), "less for the guest: inflate");
        assertEquals(-16, Balloon.stepMiB(32 * MIB, 48 * MIB), "more for the guest: deflate");
        assertEquals(0, Balloon.stepMiB(64 * MIB, 64 * MIB));
        assertEquals(15, Balloon.stepMiB(64 * MIB, 48 * MIB + MIB / 2), "a partial MiB is left out");
        assertEquals(0, Balloon.stepMiB(64 * MIB, 64 * MIB - 1));
        assertEquals(49 * MIB, Balloon.after(64 * MIB, 15), "the target kept is where the balloon went");
        assertEquals(48 * MIB, Balloon.after(32 * MIB, -16));
    }

    @Test
    void aTargetIsBetweenOneMibAndTheMaximum() {
        Balloon.checkTarget(MIB, 64 * MIB);
        Balloon.checkTarget(64 * MIB, 64 * MIB);
        for (long bad : new long[] {0, MIB - 1, 64 * MIB + 1, -MIB}) {
            KvmtoolException e = assertThrows(KvmtoolException.class, () -> Balloon.checkTarget(bad, 64 * MIB));
            assertEquals(ErrorCode.INVALID_ARG, e.code());
            assertEquals("memory " + bad + " bytes is outside 1 MiB.." + (64 * MIB) + " bytes (the maximum)",
                    e.getMessage());
        }
    }

    @Test
    void atStartTheBalloonTakesWhatTheGuestShouldNotHave() {
        FakeCodec codec = new FakeCodec();
        DomainDefinition full = codec.parse(FakeCodec.xml("a"));
        assertEquals(0, Balloon.initialInflateMiB(full), "currentMemory = memory: nothing to take");
        DomainDefinition half = codec.parse(FakeCodec.xml("b", "<currentMemory unit='MiB'>24</currentMemory>"));
        assertEquals(40, Balloon.initialInflateMiB(half));
        DomainDefinition noBalloon = codec.parse(FakeCodec.xml("c", "<currentMemory unit='MiB'>24</currentMemory>")
                .replace("<memballoon model='virtio'/>", ""));
        assertEquals(0, Balloon.initialInflateMiB(noBalloon), "no balloon: the guest keeps its maximum");
    }
}
