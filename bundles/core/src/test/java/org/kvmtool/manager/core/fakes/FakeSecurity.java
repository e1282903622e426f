package org.kvmtool.manager.core.fakes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ImageLock;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.SecurityDriver;

/**
 * Leases as a map, standing for the records on disk (it outlives driver instances, as the files do): what a
 * domain holds between prepare and restore. Its own lkvm user is whatever prepare is given.
 */
public final class FakeSecurity implements SecurityDriver {
    public final Map<String, Lease> lent = new ConcurrentHashMap<>();
    public final List<String> calls = new CopyOnWriteArrayList<>();
    /** Thrown by the next prepare, when set (a file that cannot be lent). */
    public volatile KvmtoolException failPrepare;
    /** Extra locks every lease hands out (the fake codec knows no disks). */
    public volatile List<ImageLock> extraLocks = List.of();

    @Override
    public Lease prepare(Path stateDir, DomainDefinition def, int uid, int gid, List<Integer> groups) {
        calls.add("prepare " + def.name());
        KvmtoolException fail = failPrepare;
        if (fail != null) {
            failPrepare = null;
            throw fail;
        }
        List<ImageLock> locks = new ArrayList<>(extraLocks);
        def.devices().disks().forEach(d -> locks.add(new ImageLock("disk", d.source(), !d.readOnly())));
        Lease lease = new Lease(def.name(), List.of(def.os().kernel()), locks);
        lent.put(def.name(), lease);
        return lease;
    }

    @Override
    public void restore(Path stateDir, String domain) {
        calls.add("restore " + domain);
        lent.remove(domain);
    }

    @Override
    public List<String> recover(Path stateDir, Set<String> live) {
        calls.add("recover " + new java.util.TreeSet<>(live));
        List<String> out = new ArrayList<>();
        for (String name : List.copyOf(lent.keySet())) {
            if (!live.contains(name)) {
                lent.remove(name);
                out.add(name);
            }
        }
        return out;
    }
}
