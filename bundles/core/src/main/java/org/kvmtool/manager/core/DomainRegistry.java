package org.kvmtool.manager.core;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * The domains by name, and the id counter. Changes of the name space (a new domain, a transient one
 * gone) happen under {@link #namespace()}, a lock held only for checks and one file write, never across IPC
 * or a process wait, and never taken while a domain's monitor is held.
 */
final class DomainRegistry {
    private final ConcurrentHashMap<String, DomainObject> byName = new ConcurrentHashMap<>();
    private final Object namespace = new Object();
    private final AtomicInteger nextId = new AtomicInteger(1);

    Object namespace() {
        return namespace;
    }

    Optional<DomainObject> find(String name) {
        return Optional.ofNullable(name == null ? null : byName.get(name));
    }

    DomainObject get(String name) {
        return find(name).orElseThrow(() -> new KvmtoolException(ErrorCode.NO_DOMAIN, "domain '" + name + "' not found"));
    }

    Optional<DomainObject> findByUuid(UUID uuid) {
        return byName.values().stream().filter(d -> d.uuid.equals(uuid)).findFirst();
    }

    Optional<DomainObject> findById(int id) {
        return byName.values().stream().filter(d -> {
            DomainRun r = d.run();
            return r != null && r.id == id && d.state().isActive();
        }).findFirst();
    }

    List<DomainObject> all() {
        return byName.values().stream().sorted(Comparator.comparing(d -> d.name)).toList();
    }

    /** Call under {@link #namespace()}. */
    void add(DomainObject d) {
        if (byName.putIfAbsent(d.name, d) != null) {
            throw new IllegalStateException("domain '" + d.name + "' already registered");
        }
    }

    /** Drops a transient domain that has ended; call holding its job. */
    void dropIfGone(DomainObject d) {
        synchronized (namespace) {
            if (!d.isPersistent() && d.run() == null && !d.state().isActive() && !d.isRemoved()) {
                byName.remove(d.name, d);
                d.markRemoved();
            }
        }
    }

    int nextId() {
        return nextId.getAndIncrement();
    }

    /** Ids already given out (found in status files) are never given again. */
    void reserveIdsUpTo(int id) {
        nextId.accumulateAndGet(id + 1, Math::max);
    }
}
