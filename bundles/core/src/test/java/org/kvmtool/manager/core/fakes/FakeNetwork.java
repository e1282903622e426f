package org.kvmtool.manager.core.fakes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.kvmtool.manager.api.DomainDefinition.NetInterface;
import org.kvmtool.manager.api.DomainDefinition.Vsock;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.InterfaceStats;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.NetworkService;

/**
 * The network service's contract on a map: taps by name with their owner, CIDs by owner. What the driver
 * must do with it (prepare before lkvm, release after, orphans at activation) is what the core tests check;
 * the taps themselves are the real service's tests' (bundles/network).
 */
public final class FakeNetwork implements NetworkService {
    /** tap -> owner, for the taps "made". */
    public final Map<String, String> taps = new ConcurrentHashMap<>();
    public final Map<String, Long> cids = new ConcurrentHashMap<>();
    /** "prepare DOMAIN OWNER uid=U", "release OWNER [taps]", "orphans PREFIX live=[...]": in order. */
    public final List<String> calls = new CopyOnWriteArrayList<>();
    /** A refusal for the next prepare (then cleared). */
    public volatile KvmtoolException refuseNext;

    @Override
    public synchronized List<NetInterface> prepare(String domain, String owner, List<NetInterface> interfaces, int uid, int gid) {
        calls.add("prepare " + domain + " " + owner + " uid=" + uid);
        KvmtoolException refusal = refuseNext;
        refuseNext = null;
        if (refusal != null) {
            throw refusal;
        }
        List<NetInterface> out = new ArrayList<>();
        for (NetInterface n : interfaces) {
            if (!n.hasTap() || !n.managed()) {
                out.add(n);
                continue;
            }
            String name = n.tapDevice();
            if (name == null || taps.containsKey(name)) {
                int i = 0;
                while (taps.containsKey("kvmtap" + i)) {
                    i++;
                }
                name = "kvmtap" + i;
            }
            taps.put(name, owner);
            out.add(n.withTap(name));
        }
        return out;
    }

    @Override
    public synchronized void release(String owner, List<NetInterface> interfaces) {
        List<String> removed = new ArrayList<>();
        for (NetInterface n : interfaces) {
            if (n.tapDevice() != null && owner.equals(taps.get(n.tapDevice()))) {
                taps.remove(n.tapDevice());
                removed.add(n.tapDevice());
            }
        }
        calls.add("release " + owner + " " + removed);
    }

    @Override
    public synchronized List<String> removeOrphans(String ownerPrefix, Set<String> liveOwners) {
        calls.add("orphans " + ownerPrefix + " live=" + new java.util.TreeSet<>(liveOwners));
        List<String> removed = new ArrayList<>();
        taps.forEach((tap, owner) -> {
            if (owner.startsWith(ownerPrefix) && !liveOwners.contains(owner)) {
                removed.add(tap);
            }
        });
        removed.forEach(taps::remove);
        return removed;
    }

    @Override
    public InterfaceStats stats(NetInterface nic) {
        if (!taps.containsKey(nic.tapDevice()) && nic.managed()) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "tap '" + nic.tapDevice() + "' does not exist");
        }
        return new InterfaceStats(nic.tapDevice(), nic.mac(), 1, 2, 3, 4, 5, 6, 7, 8);
    }

    @Override
    public synchronized long acquireVsock(String domain, String owner, Vsock vsock) {
        long cid = vsock.auto() ? 3 : vsock.cid();
        while (vsock.auto() && cids.containsValue(cid)) {
            cid++;
        }
        cids.put(owner, cid);
        return cid;
    }

    @Override
    public void releaseVsock(String owner) {
        cids.remove(owner);
    }
}
