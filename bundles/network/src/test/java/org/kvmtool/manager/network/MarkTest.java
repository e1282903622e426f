package org.kvmtool.manager.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class MarkTest {
    @Test
    void theAliasNamesDomainAndOwner() {
        assertEquals(new TapNetworkService.Mark("web", "/run/kvmtool-manager/home/3"),
                TapNetworkService.Mark.parse("kvmtool-manager web /run/kvmtool-manager/home/3"));
        assertEquals("/a b", TapNetworkService.Mark.parse("kvmtool-manager d /a b").owner(), "an owner may hold blanks");
        assertNull(TapNetworkService.Mark.parse(""));
        assertNull(TapNetworkService.Mark.parse("uplink to the lab"));
        assertNull(TapNetworkService.Mark.parse("kvmtool-manager web"));
        assertNull(TapNetworkService.Mark.parse("kvmtool-manager web "));
    }

    @Test
    void theTapsAddressIsTheGuestsWithFe() {
        assertArrayEquals(new byte[] {(byte) 0xfe, 0x54, 0x00, 0x12, (byte) 0xab, (byte) 0xff},
                TapNetworkService.hostMac("52:54:00:12:ab:ff"));
    }
}
