package org.kvmtool.manager.core;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainXmlCodec;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Activation's first step: every definition file becomes a registered persistent domain, shutoff until its
 * status file says otherwise. A file that does not parse, or names another domain, is reported and ignored.
 */
final class DefinitionLoader {
    private static final Logger LOG = Logger.getLogger(DefinitionLoader.class.getName());
    private final DefinitionStore definitions;
    private final DomainXmlCodec codec;
    private final DomainRegistry registry;
    private final Clock clock;

    DefinitionLoader(DefinitionStore definitions, DomainXmlCodec codec, DomainRegistry registry, Clock clock) {
        this.definitions = definitions;
        this.codec = codec;
        this.registry = registry;
        this.clock = clock;
    }

    /**
     * Parsed side by side on {@code pool} (the XML codec is most of an activation's CPU), registered in the
     * files' order. Returns the files as read (canonical XML) by name, so that a run of an unchanged definition
     * is not parsed twice.
     */
    Map<String, String> load(ExecutorService pool) throws InterruptedException {
        Map<String, String> files = definitions.loadAll((p, e) -> LOG.log(Level.WARNING, "unreadable definition " + p, e));
        List<Callable<DomainDefinition>> parses = new ArrayList<>();
        for (String xml : files.values()) {
            parses.add(() -> codec.parse(xml));
        }
        List<Future<DomainDefinition>> parsed = pool.invokeAll(parses);
        int i = 0;
        for (Map.Entry<String, String> f : files.entrySet()) {
            Future<DomainDefinition> result = parsed.get(i++);
            try {
                DomainDefinition def = parsedOrThrow(result);
                if (!def.name().equals(f.getKey())) {
                    LOG.warning(() -> "definition " + definitions.path(f.getKey()) + " names '" + def.name() + "': ignored");
                    continue;
                }
                DomainObject d = new DomainObject(def.name(), def.uuid(), clock);
                d.setPersistentDefinition(def);
                d.setAutostart(definitions.isAutostart(def.name()));
                registry.add(d);
            } catch (KvmtoolException e) {
                LOG.log(Level.WARNING, "definition " + definitions.path(f.getKey()) + " ignored: " + e.getMessage(), e);
            }
        }
        return files;
    }

    private static DomainDefinition parsedOrThrow(Future<DomainDefinition> result) throws InterruptedException {
        try {
            return result.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new KvmtoolException(ErrorCode.INTERNAL_ERROR, String.valueOf(e.getCause()), e.getCause());
        }
    }
}
