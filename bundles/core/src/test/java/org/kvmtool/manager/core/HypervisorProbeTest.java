package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.HypervisorInfo;
import org.kvmtool.manager.api.KvmtoolException;

class HypervisorProbeTest {
    @Test
    void anUnavailableLkvmIsAskedAgainAnAvailableOneOnlyOnce() {
        List<String> asked = new ArrayList<>();
        List<HypervisorInfo> answers = new ArrayList<>(List.of(
                new HypervisorInfo(null, false, null, "lkvm not found on PATH"),
                new HypervisorInfo("/usr/bin/lkvm", true, "3.18.0", null)));
        HypervisorProbe probe = new HypervisorProbe(configured -> {
            asked.add(configured);
            return answers.size() > 1 ? answers.remove(0) : answers.get(0);
        }, "/opt/lkvm");

        KvmtoolException e = assertThrows(KvmtoolException.class, probe::binary);
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        assertEquals("lkvm is not available: lkvm not found on PATH", e.getMessage());
        assertEquals("/usr/bin/lkvm", probe.binary(), "installed meanwhile: found without a restart");
        assertEquals("3.18.0", probe.info().version());
        assertEquals("/usr/bin/lkvm", probe.binary());
        assertEquals(List.of("/opt/lkvm", "/opt/lkvm"), asked, "asked until available, then remembered");
    }
}
