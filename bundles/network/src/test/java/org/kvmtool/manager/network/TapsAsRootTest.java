package org.kvmtool.manager.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.kvmtool.manager.api.DomainDefinition.NetInterface;
import org.kvmtool.manager.api.DomainDefinition.NetType;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.InterfaceStats;
import org.kvmtool.manager.api.KvmtoolException;

/** The service on real taps and bridges (root; each test's devices are removed by {@link HostNet}). */
class TapsAsRootTest {
    private static final int UID = 4242;
    private static final int GID = 4343;

    @RegisterExtension
    final HostNet net = new HostNet();

    private final TapNetworkService service = new TapNetworkService();

    private String owner(String run) {
        return net.ownerPrefix + run;
    }

    private static NetInterface bridged(String bridge, String mac) {
        return new NetInterface(NetType.BRIDGE, null, mac, bridge, true);
    }

    @Test
    void aBridgedTapIsMadePersistentOwnedMarkedOnTheBridgeUpWithItsMtu() {
        String br = net.bridge(1400);
        List<NetInterface> out = service.prepare("web", owner("1"), List.of(bridged(br, "52:54:00:12:34:56")), UID, GID);
        String tap = out.get(0).tapDevice();
        assertTrue(tap.matches("kvmtap\\d+"), tap);
        assertEquals(bridged(br, "52:54:00:12:34:56").withTap(tap), out.get(0));
        assertEquals(br, HostNet.master(tap), "on the bridge");
        assertEquals(Integer.toString(UID), HostNet.read(tap, "owner"));
        assertEquals(Integer.toString(GID), HostNet.read(tap, "group"));
        assertEquals("1400", HostNet.read(tap, "mtu"), "the bridge's MTU");
        assertEquals("1400", HostNet.read(br, "mtu"), "and the bridge keeps it");
        assertEquals("fe:54:00:12:34:56", HostNet.read(tap, "address"));
        int flags = Integer.decode(HostNet.read(tap, "flags"));
        assertEquals(1, flags & 1, "up (IFF_UP)");
        int tunFlags = Integer.decode(HostNet.read(tap, "tun_flags"));
        assertEquals(0x0800, tunFlags & 0x0800, "persistent (IFF_PERSIST)");
        assertEquals(0x0002, tunFlags & 0x0002, "a tap");
        assertEquals("kvmtool-manager web " + owner("1"), HostNet.read(tap, "ifalias"));

        service.release(owner("1"), out);
        assertFalse(HostNet.exists(tap), "removed by its owner");
        service.release(owner("1"), out); // idempotent
    }

    @Test
    void releaseRemovesOnlyWhatItsOwnerMade() {
        String br = net.bridge(1500);
        String existing = net.tap();
        List<NetInterface> out = service.prepare("d", owner("a"), List.of(bridged(br, null),
                new NetInterface(NetType.ETHERNET, existing, null)), UID, GID);
        assertEquals(existing, out.get(1).tapDevice());
        assertEquals("", HostNet.read(existing, "ifalias"), "an existing tap is left as it is");
        String made = out.get(0).tapDevice();
        service.release(owner("b"), out);
        assertTrue(HostNet.exists(made), "another owner's release leaves it");
        service.release(owner("a"), out);
        assertFalse(HostNet.exists(made));
        assertTrue(HostNet.exists(existing), "managed='no': never removed");
    }

    @Test
    void aNamedManagedTapIsMadeOnNoBridgeAndAnExistingNameIsRefusedBeforeAnythingIsMade() {
        String name = net.named();
        List<NetInterface> out = service.prepare("e", owner("1"),
                List.of(new NetInterface(NetType.ETHERNET, name, "52:54:00:00:00:07", null, true)), UID, GID);
        assertEquals(name, out.get(0).tapDevice());
        assertNull(HostNet.master(name));
        assertEquals(1, Integer.decode(HostNet.read(name, "flags")) & 1);

        String br = net.bridge(1500);
        String taken = net.tap();
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> service.prepare("f", owner("2"),
                List.of(bridged(br, null), new NetInterface(NetType.BRIDGE, taken, null, br, true)), UID, GID));
        assertEquals(ErrorCode.OPERATION_INVALID, e.code());
        assertEquals("domain 'f', interface 2: tap '" + taken + "' exists already; the manager makes its own (to use this one as it "
                + "is, say <target dev='" + taken + "' managed='no'/> in an <interface type='ethernet'>)", e.getMessage());
        assertEquals(List.of(), marked(owner("2")), "nothing made");
        assertEquals("", HostNet.read(taken, "ifalias"));
    }

    @Test
    void aGeneratedNameThatIsTakenIsReplacedByAFreeOne() {
        String br = net.bridge(1500);
        String first = service.prepare("g", owner("1"), List.of(bridged(br, null)), UID, GID).get(0).tapDevice();
        // a live definition dumped and defined again names the tap its run had: another run holds it now
        String second = service.prepare("h", owner("2"), List.of(new NetInterface(NetType.BRIDGE, first, null, br, true)), UID, GID)
                .get(0).tapDevice();
        assertNotEquals(first, second);
        assertTrue(second.matches("kvmtap\\d+"), second);
        assertEquals(br, HostNet.master(second));
    }

    @Test
    void aFailureHalfwayRemovesTheTapsAlreadyMade() {
        String good = net.bridge(1500);
        String jumbo = net.bridge(65535); // more than a tap can carry (65521): the second tap's MTU fails
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> service.prepare("i", owner("1"),
                List.of(bridged(good, null), bridged(jumbo, null)), UID, GID));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        assertTrue(e.getMessage().startsWith("domain 'i', interface 2: cannot set the MTU of tap kvmtap"), e.getMessage());
        assertTrue(e.getMessage().contains("ioctl(SIOCSIFMTU 65535, kvmtap"), e.getMessage());
        assertEquals(List.of(), marked(owner("1")), "the first interface's tap is gone again");
        assertEquals(List.of(), HostNet.read(good, "brif").isEmpty() ? List.of() : List.of("ports of " + good));
    }

    @Test
    void refusalsChangeNothing() {
        String br = net.bridge(1500);
        KvmtoolException session = assertThrows(KvmtoolException.class,
                () -> service.prepare("s", owner("1"), List.of(bridged(br, null)), -1, -1));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, session.code());
        assertEquals("domain 's', interface 1: kvmtool:///session cannot make taps: lkvm runs as the manager's own user, which "
                + "may not create network devices; use kvmtool:///system, or an existing tap (<interface type='ethernet'>"
                + "<target dev='TAP' managed='no'/>)", session.getMessage());
        String missing = HostNet.unique("kvtm");
        KvmtoolException noBridge = assertThrows(KvmtoolException.class,
                () -> service.prepare("s", owner("1"), List.of(bridged(br, null), bridged(missing, null)), UID, GID));
        assertEquals("domain 's', interface 2: bridge '" + missing + "' does not exist", noBridge.getMessage());
        String plain = net.tap();
        KvmtoolException notBridge = assertThrows(KvmtoolException.class,
                () -> service.prepare("s", owner("1"), List.of(bridged(plain, null)), UID, GID));
        assertEquals("domain 's', interface 1: '" + plain + "' is not a Linux bridge", notBridge.getMessage());
        KvmtoolException noTap = assertThrows(KvmtoolException.class,
                () -> service.prepare("s", owner("1"), List.of(new NetInterface(NetType.ETHERNET, missing, null)), UID, GID));
        assertEquals(ErrorCode.OPERATION_INVALID, noTap.code());
        assertTrue(noTap.getMessage().startsWith("domain 's', interface 1: tap '" + missing + "' does not exist"), noTap.getMessage());
        assertEquals(List.of(), marked(owner("1")));
        // user-mode interfaces need nothing, in either mode
        NetInterface user = new NetInterface(NetType.USER, null, null);
        assertEquals(List.of(user), service.prepare("u", owner("1"), List.of(user), -1, -1));
    }

    @Test
    void orphansAreTheMarkedTapsOfOwnersNoLongerLive() {
        String br = net.bridge(1500);
        String dead = service.prepare("o", owner("home/1"), List.of(bridged(br, null)), UID, GID).get(0).tapDevice();
        String live = service.prepare("p", owner("home/2"), List.of(bridged(br, null)), UID, GID).get(0).tapDevice();
        String existing = net.tap();
        assertEquals(List.of(dead), service.removeOrphans(owner("home/"), Set.of(owner("home/2"))));
        assertFalse(HostNet.exists(dead));
        assertTrue(HostNet.exists(live));
        assertTrue(HostNet.exists(existing), "unmarked: not ours");
        assertEquals(List.of(), service.removeOrphans(owner("elsewhere/"), Set.of()), "another manager's prefix: left alone");
        assertTrue(HostNet.exists(live));
    }

    @Test
    void countersAreTheTapsFromTheGuestsSide() throws Exception {
        String br = net.bridge(1500);
        NetInterface nic = service.prepare("c", owner("1"), List.of(bridged(br, "52:54:00:00:0c:01")), UID, GID).get(0);
        InterfaceStats before = service.stats(nic);
        assertEquals(List.of(nic.tapDevice(), "52:54:00:00:0c:01", 0L, 0L, 0L, 0L), List.of(before.device(), before.mac(),
                before.rxPackets(), before.rxBytes(), before.txPackets(), before.txBytes()),
                "a new tap has carried nothing (the bridge's own chatter before a reader came may count as drops) " + before);
        assertEquals("sent 5, received 5\n", HostNet.traffic(nic.tapDevice(), br, "5"));
        InterfaceStats after = service.stats(nic);
        assertEquals(5, after.txPackets(), "the guest's 5 frames: the tap's rx " + after);
        assertEquals(5 * 60, after.txBytes(), after.toString());
        // the bridge's own chatter (IPv6 solicitations when a port comes up) may reach the guest too
        assertTrue(after.rxPackets() >= 5, "the bridge's 5 broadcasts reached the guest (the tap's tx) " + after);
        assertTrue(after.rxBytes() >= 5 * 60, after.toString());
        assertEquals(0, after.rxErrs() + after.txErrs(), after.toString());
        KvmtoolException user = assertThrows(KvmtoolException.class, () -> service.stats(new NetInterface(NetType.USER, null, null)));
        assertEquals(ErrorCode.NO_SUPPORT, user.code());
    }

    /** Taps that carry this owner's mark. */
    private static List<String> marked(String owner) {
        try (var names = Files.list(HostNet.SYS)) {
            return names.map(p -> p.getFileName().toString()).filter(n -> HostNet.read(n, "ifalias").endsWith(" " + owner)).toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
