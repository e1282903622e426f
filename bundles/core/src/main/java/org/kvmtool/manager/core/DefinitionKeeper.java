package org.kvmtool.manager.core;

import java.time.Clock;
import java.util.function.UnaryOperator;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainXmlCodec;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LifecycleEvent;

/**
 * The single place where a domain's definitions change, as {@link StateKeeper} is for its state: each change
 * is written first (the definition file, or the status file for the live definition) and only then applied
 * in memory, so a failed write changes nothing; definition events go out on the state's ordered channel.
 * Callers hold the domain's job, or the name space lock for a domain not yet registered.
 */
final class DefinitionKeeper {
    private final DefinitionStore store;
    private final DomainXmlCodec codec;
    private final DomainRegistry registry;
    private final StateKeeper keeper;
    private final Clock clock;

    DefinitionKeeper(DefinitionStore store, DomainXmlCodec codec, DomainRegistry registry, StateKeeper keeper, Clock clock) {
        this.store = store;
        this.codec = codec;
        this.registry = registry;
        this.keeper = keeper;
        this.clock = clock;
    }

    /** Under the name space lock: {@code def} may take its name ({@code sameName}, the domain holding it, or null) and uuid. */
    void checkUnique(DomainDefinition def, DomainObject sameName) {
        if (sameName != null && !sameName.uuid.equals(def.uuid())) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain '" + def.name() + "' already exists with uuid " + sameName.uuid);
        }
        registry.findByUuid(def.uuid()).filter(o -> !o.name.equals(def.name())).ifPresent(o -> {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain '" + o.name + "' already has uuid " + def.uuid());
        });
    }

    /** Under the name space lock: a new persistent domain, registered once its file is written. */
    DomainObject addPersistent(DomainDefinition def, String canonical) {
        store.write(def.name(), canonical);
        DomainObject d = new DomainObject(def.name(), def.uuid(), clock);
        d.setPersistentDefinition(def);
        registry.add(d);
        keeper.publish(d, LifecycleEvent.DEFINED, "added");
        return d;
    }

    /** A transient domain, not registered yet: nothing is written (its run's status file will hold it). */
    DomainObject newTransient(DomainDefinition def) {
        DomainObject d = new DomainObject(def.name(), def.uuid(), clock);
        d.setTransientDefinition(def);
        return d;
    }

    /** Replaces (or gives) the persistent definition; a live run keeps its own until the next start. */
    void redefine(DomainObject d, DomainDefinition def, String canonical) {
        boolean wasPersistent = d.isPersistent();
        store.write(d.name, canonical);
        d.setPersistentDefinition(def);
        keeper.publish(d, LifecycleEvent.DEFINED, wasPersistent ? "updated" : "added");
    }

    /** The persistent definition, if there is one, changed by {@code change} (a tunable, currentMemory). */
    void changePersistent(DomainObject d, UnaryOperator<DomainDefinition> change) {
        if (!d.isPersistent()) {
            return;
        }
        DomainDefinition next = change.apply(d.persistentDefinition());
        store.write(d.name, codec.format(next));
        d.setPersistentDefinition(next);
    }

    /** The live definition of {@code run} changed by {@code change}, and its status file saying so. */
    void changeLive(DomainObject d, DomainRun run, UnaryOperator<DomainDefinition> change) {
        DomainDefinition next = change.apply(run.definition);
        String xml = codec.format(next);
        synchronized (d) {
            run.definition = next;
            run.definitionXml = xml;
        }
        keeper.persist(d);
    }

    /** Undefine: the file and the autostart link go; a running domain goes on as a transient one. */
    void remove(DomainObject d) {
        store.delete(d.name);
        d.setAutostart(false);
        d.setPersistentDefinition(null);
        keeper.publish(d, LifecycleEvent.UNDEFINED, "removed");
    }

    void setAutostart(DomainObject d, boolean on) {
        store.setAutostart(d.name, on);
        d.setAutostart(on);
    }
}
