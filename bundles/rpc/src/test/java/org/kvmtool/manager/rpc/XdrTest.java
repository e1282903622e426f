package org.kvmtool.manager.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.StateReason;

/** Frames recorded from a real virsh 9.0.0 (libvirt-rpc-facts.md, section 1). */
class XdrTest {
    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replaceAll("[^0-9a-f]", ""));
    }

    @Test
    void decodesVirshConnectOpen() {
        Packet p = Packet.decode(hex("0000003c 20008086 00000001 00000001 00000000 00000002 00000000"
                + " 00000001 00000011 6b766d74 6f6f6c3a 2f2f2f73 79737465 6d000000 00000000"));
        assertEquals(Packet.REMOTE_PROGRAM, p.prog());
        assertEquals(Proc.CONNECT_OPEN, p.proc());
        assertEquals(Packet.CALL, p.type());
        assertEquals(2, p.serial());
        XdrIn in = p.body();
        assertEquals("kvmtool:///system", in.readOptionalString());
        assertEquals(0, in.readInt());
    }

    @Test
    void encodesTheAuthListReplyVirshAccepted() {
        Packet call = new Packet(Packet.REMOTE_PROGRAM, 1, Proc.AUTH_LIST, Packet.CALL, 0, Packet.OK, new byte[0]);
        byte[] body = new XdrOut().writeInt(1).writeInt(0).toByteArray();
        assertArrayEquals(hex("00000024 20008086 00000001 00000042 00000001 00000000 00000000 00000001 00000000"),
                call.answer(Packet.REPLY, Packet.OK, body).encode());
    }

    @Test
    void domainIsNameUuidOpaqueAndId() {
        UUID uuid = UUID.fromString("11111111-2222-3333-4444-555555555555");
        DomainInfo d = new DomainInfo("alpha", uuid, 1, DomainState.RUNNING, StateReason.BOOTED, true, false, 10, 1,
                1, 1, null, 0, List.of());
        XdrOut out = new XdrOut();
        Dispatcher.writeDomain(out, d);
        assertArrayEquals(hex("00000005 616c7068 61000000 11111111 22223333 44445555 55555555 00000001"), out.toByteArray());
        DomainInfo off = new DomainInfo("b", uuid, 7, DomainState.SHUTOFF, StateReason.SHUTDOWN, true, false, -1, 1,
                1, 1, null, 0, List.of());
        out = new XdrOut();
        Dispatcher.writeDomain(out, off);
        assertEquals(-1, new XdrIn(out.toByteArray(), 24).readInt(), "an inactive domain's id is -1 on the wire");
    }

    @Test
    void optionalStringsAndHypers() {
        byte[] b = new XdrOut().writeOptionalString(null).writeOptionalString("").writeHyper(3018000L).toByteArray();
        assertArrayEquals(hex("00000000 00000001 00000000 00000000 002e0d10"), b);
        XdrIn in = new XdrIn(b, 0);
        assertEquals(null, in.readOptionalString());
        assertEquals("", in.readOptionalString());
        assertEquals(3018000L, in.readHyper());
    }

    @Test
    void versionsAreLibvirtNumbers() {
        assertEquals(3018000L, Dispatcher.versionNumber("3.18.0"));
        assertEquals(9000000L, Dispatcher.versionNumber("9.0"));
        assertEquals(0L, Dispatcher.versionNumber(null));
    }

    @Test
    void truncatedAndHostilePayloadsAreRpcErrors() {
        assertThrows(RpcException.class, () -> new XdrIn(hex("0000"), 0).readInt());
        assertThrows(RpcException.class, () -> new XdrIn(hex("7fffffff 00"), 0).readString());
        assertThrows(RpcException.class, () -> new XdrIn(hex("00000008 4142"), 0).readString());
        assertThrows(RpcException.class, () -> Packet.decode(hex("00000010 20008086 00000001 00000001")));
    }

    @Test
    void stringsAndCountsAreBoundedByLibvirtsLimitsBeforeAllocation() {
        // a string of 2^31 and one of REMOTE_STRING_MAX + 1, in a payload of a few bytes
        RpcException huge = assertThrows(RpcException.class, () -> new XdrIn(hex("80000000 00000000"), 0).readString());
        assertTrue(huge.getMessage().contains("2147483648"), huge.getMessage());
        assertThrows(RpcException.class, () -> new XdrIn(hex("00400001 00000000"), 0).readString());
        // an array count of 2^30 against REMOTE_DOMAIN_LIST_MAX
        RpcException count = assertThrows(RpcException.class,
                () -> new XdrIn(hex("40000000"), 0).readCount(ProtocolLimits.DOMAIN_LIST_MAX, "maxids"));
        assertEquals("Unable to decode message payload: maxids 1073741824 is above its limit 16384", count.getMessage());
        assertThrows(RpcException.class, () -> new XdrIn(hex("ffffffff"), 0).readCount(10, "n"));
        assertEquals(16384, new XdrIn(hex("00004000"), 0).readCount(ProtocolLimits.DOMAIN_LIST_MAX, "maxids"));
    }
}
