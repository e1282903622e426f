package org.kvmtool.manager.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.NodeInfo;

/** The host commands print what virsh 9.0.0 prints (its layout, taken from its output on this kind of host). */
class HostTextTest {
    @Test
    void nodeInfoLooksLikeVirsh() {
        assertEquals("""
                CPU model:           x86_64
                CPU(s):              2
                CPU frequency:       2445 MHz
                CPU socket(s):       1
                Core(s) per socket:  2
                Thread(s) per core:  1
                NUMA cell(s):        1
                Memory size:         24683784 KiB
                """, HostText.nodeInfo(new NodeInfo("x86_64", 24683784, 2, 2445, 1, 1, 2, 1)));
    }

    @Test
    void freecellLooksLikeVirsh() {
        String nl = System.lineSeparator();
        assertEquals("    0:    4000000 KiB" + nl + "    1:    5000000 KiB" + nl + "--------------------" + nl
                + "Total:    9000000 KiB" + nl, HostText.cells(List.of(0, 1), List.of(4_000_000L << 10, 5_000_000L << 10)));
    }
}
