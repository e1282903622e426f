package org.kvmtool.manager.core.fakes;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.kvmtool.manager.api.CgroupRef;
import org.kvmtool.manager.api.CgroupService;
import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.CgroupSupport;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** Groups as a map; a group with a live lkvm inside cannot be removed (EBUSY), as in the kernel. */
public final class FakeCgroups implements CgroupService {
    private final FakeHost host;
    public volatile boolean usable = true;
    public final Map<String, CgroupRef> groups = new ConcurrentHashMap<>();
    public final Map<String, Long> shares = new ConcurrentHashMap<>();
    public final Map<String, Long> limits = new ConcurrentHashMap<>();

    public FakeCgroups(FakeHost host) {
        this.host = host;
    }

    @Override
    public CgroupSupport support() {
        return usable ? new CgroupSupport("unified", Map.of("cpu", "v2:/fake", "memory", "v2:/fake"), true, null)
                : new CgroupSupport("none", Map.of(), false, "no writable cgroup hierarchy");
    }

    @Override
    public CgroupRef create(String parent, String domainName) {
        if (!usable) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cgroups not usable");
        }
        return groups.computeIfAbsent(domainName,
                n -> new CgroupRef(n + ".kvmtool", List.of("/fake/" + parent + "/" + n + ".kvmtool"), true));
    }

    @Override
    public Optional<CgroupRef> find(String parent, String domainName) {
        return Optional.ofNullable(groups.get(domainName));
    }

    @Override
    public List<String> procsFiles(CgroupRef group) {
        return List.of(group.dirs().get(0) + "/cgroup.procs");
    }

    @Override
    public void attach(CgroupRef group, long pid) {
    }

    @Override
    public CgroupStats stats(CgroupRef group, long pid) {
        return new CgroupStats(1_000_000, 32L << 20, group == null ? -1 : limits.getOrDefault(group.name(), -1L),
                group == null ? -1 : shares.getOrDefault(group.name(), 1024L), List.of(500_000L),
                group == null ? CgroupStats.Source.PROC : CgroupStats.Source.CGROUP);
    }

    @Override
    public void setCpuShares(CgroupRef group, long s) {
        shares.put(group.name(), s);
    }

    @Override
    public void setMemoryLimit(CgroupRef group, long bytes) {
        limits.put(group.name(), bytes);
    }

    @Override
    public void remove(CgroupRef group) {
        String procs = group.dirs().get(0) + "/cgroup.procs";
        boolean busy = host.alive().stream().anyMatch(p -> p.cgroupProcsFiles.contains(procs));
        if (busy) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot remove " + group.dirs().get(0) + ": Device or resource busy");
        }
        groups.values().remove(group);
    }
}
