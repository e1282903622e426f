package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

import org.kvmtool.manager.api.CgroupService;
import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.ConsoleAttachment;
import org.kvmtool.manager.api.ConsoleListener;
import org.kvmtool.manager.api.ConsoleService;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainEventListener;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.DomainXmlCodec;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.ExitWatcher;
import org.kvmtool.manager.api.Hypervisor;
import org.kvmtool.manager.api.HypervisorInfo;
import org.kvmtool.manager.api.InterfaceStats;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LifecycleEvent;
import org.kvmtool.manager.api.LkvmControl;
import org.kvmtool.manager.api.ManagerInfo;
import org.kvmtool.manager.api.NetworkService;
import org.kvmtool.manager.api.ProcessSpawner;
import org.kvmtool.manager.api.StateReason;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.EventAdmin;
import org.osgi.service.metatype.annotations.Designate;

/**
 * The stateful driver (libvirt's driver layer): lookup, precondition, job, event; the process layer does
 * the rest. All state is rebuilt from files at activation and nothing is ended at deactivation, so a
 * restart, update or refresh of the bundle never touches a guest.
 */
@Component(service = DomainDriver.class, configurationPid = "org.kvmtool.manager", immediate = true)
@Designate(ocd = ManagerConfig.class)
public final class KvmtoolDriver implements DomainDriver {
    /** How long an lkvm whose IPC failed is watched for its end (a kill in progress) before blaming IPC. */
    private static final long IPC_FAILURE_EXIT_WAIT_MILLIS = 200;

    private static final Logger LOG = Logger.getLogger(KvmtoolDriver.class.getName());
    private static final long MIB = 1024 * 1024;

    private final Services s;
    private final DriverSettings settings;
    private final String version;
    private final DomainRegistry registry = new DomainRegistry();
    private final DefinitionStore definitions;
    private final EventDispatcher events;
    private final StateKeeper keeper;
    private final Supervisor supervisor = new Supervisor();
    private final DomainProcess process;
    private final Jobs jobs;
    private final AtomicReference<HypervisorInfo> hypervisor = new AtomicReference<>();
    private final Reattacher.Result reattached;
    private final Clock clock;

    @Activate
    public KvmtoolDriver(ManagerConfig config, BundleContext context,
                         @Reference(name = "codec") DomainXmlCodec codec,
                         @Reference(name = "hypervisor") Hypervisor hypervisor,
                         @Reference(name = "spawner") ProcessSpawner spawner,
                         @Reference(name = "exitWatcher") ExitWatcher exits,
                         @Reference(name = "control") LkvmControl control,
                         @Reference(name = "cgroups") CgroupService cgroups,
                         @Reference(name = "console") ConsoleService console,
                         @Reference(name = "network") NetworkService network,
                         @Reference(name = "eventAdmin", cardinality = ReferenceCardinality.OPTIONAL,
                                 policyOption = ReferencePolicyOption.GREEDY) EventAdmin eventAdmin) {
        this(config, HostEnvironment.current(), new Services(codec, hypervisor, spawner, exits, control, cgroups, console,
                network), eventAdmin, context.getBundle().getVersion().toString());
    }

    private KvmtoolDriver(ManagerConfig config, HostEnvironment host, Services services, EventAdmin eventAdmin,
                          String version) {
        this(DriverSettings.resolve(config, host), host, services, eventAdmin, Clock.systemUTC(), AtomicFile.REAL, version);
    }

    /** Everything explicit: tests vary the settings, the host, the clock and the file operations. */
    KvmtoolDriver(DriverSettings settings, HostEnvironment host, Services services, EventAdmin eventAdmin, Clock clock,
                  AtomicFile.Io io, String version) {
        this.s = services;
        this.settings = settings;
        this.version = version;
        this.clock = clock;
        AtomicFile files = new AtomicFile(io);
        createDirectories(settings);
        this.definitions = new DefinitionStore(settings.configDir(), settings.autostartDir(), files);
        StatusStore statuses = new StatusStore(settings.statusDir(), files);
        this.events = new EventDispatcher(eventAdmin, clock);
        this.keeper = new StateKeeper(statuses, events);
        this.jobs = new Jobs(registry, settings.jobWaitTimeout());
        this.process = new DomainProcess(services, settings, statuses, keeper, clock,
                () -> settings.systemMode() ? LkvmUser.resolve(settings.lkvmUser(), host.etcDir(), host.devKvm())
                        : LkvmUser.SAME_AS_MANAGER,
                this::binary, registry::nextId, host.procDir(), supervisor);
        supervisor.wire(process, jobs);
        long t0 = System.nanoTime();
        this.reattached = new Reattacher(services, settings, definitions, statuses, registry, process, supervisor, clock, host.procDir()).run();
        LOG.info(() -> "kvmtool manager " + settings.uri() + ": " + reattached.adopted() + " domains adopted, "
                + reattached.ended() + " found ended, in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        for (DomainObject d : registry.all()) {
            if (d.autostart() && !d.state().isActive()) {
                supervisor.autostart(d);
            }
        }
    }

    /** Stops watching and draining; every guest keeps running and keeps its status file. */
    @Deactivate
    public void deactivate() {
        supervisor.close();
        // operations under way finish first (bounded): a start cut here would leave a guest no driver knows of
        int left = jobs.close(settings.jobWaitTimeout());
        if (left > 0) {
            LOG.warning(() -> left + " operations still running after " + settings.jobWaitTimeout().toSeconds()
                    + " s: the driver stops without them");
        }
        for (DomainObject d : registry.all()) {
            process.detach(d);
        }
        events.close();
    }

    Reattacher.Result reattached() {
        return reattached;
    }

    // ---- lookups ----

    @Override
    public ManagerInfo managerInfo() {
        return new ManagerInfo(settings.uri(), version, probe(), s.cgroups().support());
    }

    @Override
    public List<DomainInfo> list() {
        return registry.all().stream().map(DomainObject::info).toList();
    }

    @Override
    public Optional<DomainInfo> lookup(String name) {
        return registry.find(name).map(DomainObject::info);
    }

    @Override
    public Optional<DomainInfo> lookupByUuid(UUID uuid) {
        return registry.findByUuid(uuid).map(DomainObject::info);
    }

    @Override
    public Optional<DomainInfo> lookupById(int id) {
        return registry.findById(id).map(DomainObject::info);
    }

    // ---- definitions ----

    @Override
    public String define(String xml) {
        DomainDefinition def = s.codec().parse(xml);
        String canonical = s.codec().format(def);
        while (true) {
            DomainObject existing;
            synchronized (registry.namespace()) {
                existing = registry.find(def.name()).orElse(null);
                checkUuid(def, existing);
                if (existing == null) {
                    definitions.write(def.name(), canonical);
                    DomainObject d = new DomainObject(def.name(), def.uuid(), clock);
                    d.setPersistentDefinition(def);
                    registry.add(d);
                    keeper.publish(d, LifecycleEvent.DEFINED, "added");
                    return def.name();
                }
            }
            try {
                jobs.run(existing, "define", () -> {
                    boolean wasPersistent = existing.isPersistent();
                    definitions.write(def.name(), canonical);
                    existing.setPersistentDefinition(def); // the live run keeps its own until the next start
                    keeper.publish(existing, LifecycleEvent.DEFINED, wasPersistent ? "updated" : "added");
                });
                return def.name();
            } catch (KvmtoolException e) {
                if (e.code() != ErrorCode.NO_DOMAIN) {
                    throw e;
                }
                // it ended and went away while we waited: define it anew
            }
        }
    }

    private void checkUuid(DomainDefinition def, DomainObject sameName) {
        if (sameName != null && !sameName.uuid.equals(def.uuid())) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain '" + def.name() + "' already exists with uuid " + sameName.uuid);
        }
        registry.findByUuid(def.uuid()).filter(o -> !o.name.equals(def.name())).ifPresent(o -> {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain '" + o.name + "' already has uuid " + def.uuid());
        });
    }

    @Override
    public String create(String xml) {
        DomainDefinition def = s.codec().parse(xml);
        DomainObject d;
        synchronized (registry.namespace()) {
            DomainObject existing = registry.find(def.name()).orElse(null);
            if (existing != null) {
                throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain '" + def.name() + "' already exists");
            }
            checkUuid(def, null);
            d = new DomainObject(def.name(), def.uuid(), clock);
            d.setTransientDefinition(def);
            d.job.begin("create", settings.jobWaitTimeout()); // free: nobody else can see it yet
            registry.add(d);
        }
        return jobs.continueHeld(d, () -> {
            process.start(d, def, false);
            return def.name();
        });
    }

    @Override
    public void undefine(String name) {
        DomainObject d = registry.get(name);
        jobs.run(d, "undefine", () -> {
            if (!d.isPersistent()) {
                throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "cannot undefine transient domain '" + name + "'");
            }
            definitions.delete(name);
            d.setAutostart(false);
            d.setPersistentDefinition(null); // a running domain goes on as a transient one
            keeper.publish(d, LifecycleEvent.UNDEFINED, "removed");
        });
    }

    // ---- lifecycle ----

    @Override
    public void start(String name) {
        start(name, false);
    }

    @Override
    public void startPaused(String name) {
        start(name, true);
    }

    private void start(String name, boolean paused) {
        DomainObject d = registry.get(name);
        jobs.run(d, "start", () -> {
            require(d, "domain is already running", DomainState.SHUTOFF);
            process.start(d, d.persistentDefinition(), paused);
        });
    }

    @Override
    public void shutdown(String name) {
        DomainObject d = registry.get(name);
        jobs.run(d, "shutdown", () -> {
            if (d.state() == DomainState.PAUSED) {
                throw invalid("domain is paused");
            }
            require(d, "domain is not running", DomainState.RUNNING, DomainState.SHUTDOWN);
            DomainRun run = d.run();
            ipc(d, socket -> s.control().gracefulShutdown(socket, () -> kickConsole(d)));
            if (d.state() == DomainState.RUNNING) {
                keeper.transition(d, StateReason.SHUTDOWN_USER);
            }
            supervisor.armShutdownTimer(d, run, settings.shutdownTimeout());
        });
    }

    /**
     * kvmtool hands a SysRq to the guest only with the next byte of console input: send one. While an
     * operator's session holds the console, that session's typing delivers it instead.
     */
    private void kickConsole(DomainObject d) {
        try {
            s.console().write(d.name, new byte[] {'\r'});
        } catch (KvmtoolException e) {
            LOG.fine("shutdown of '" + d.name + "': no console byte after SysRq: " + e.getMessage());
        }
    }

    @Override
    public void destroy(String name) {
        DomainObject d = registry.get(name);
        jobs.requireOpen(); // a stopping driver lets its starts finish: no abort then
        // get through a stuck start: abort it and end its lkvm before queueing for the job, so whatever it
        // waits on (the IPC socket, the process) fails at once and its rollback runs (libvirt's BeginStopJob)
        boolean aborted = false;
        String holder = d.job.holder();
        if (holder != null && Jobs.ABORTABLE.contains(holder) && d.job.abortIf(holder)) {
            aborted = true;
            DomainRun run = d.run();
            if (run != null && run.process != null) {
                try {
                    s.spawner().signal(run.process, 9);
                } catch (KvmtoolException e) {
                    LOG.fine(() -> name + ": kill during abort: " + e.getMessage());
                }
            }
        }
        boolean abortedStart = aborted;
        jobs.run(d, "destroy", () -> {
            DomainRun run = d.run();
            if (run == null || !d.state().isActive()) {
                if (abortedStart) {
                    return; // the start we aborted rolled back to shutoff/destroyed
                }
                throw invalid("domain is not running");
            }
            run.stopRequested = true;
            try {
                keeper.persist(d); // so a manager restart in the middle still says "destroyed"
            } catch (KvmtoolException e) {
                LOG.warning(() -> name + ": " + e.getMessage());
            }
            process.stop(d, StateReason.DESTROYED, true);
        });
    }

    @Override
    public void reboot(String name) {
        DomainObject d = registry.get(name);
        jobs.run(d, "reboot", () -> {
            require(d, "domain is not running", DomainState.RUNNING);
            DomainRun run = d.run();
            run.stopRequested = true;
            process.stop(d, StateReason.SHUTDOWN, true);
            if (run.definition.onReboot() == DomainDefinition.LifecycleAction.RESTART) {
                process.start(d, d.isPersistent() ? d.persistentDefinition() : run.definition, false);
            }
        });
    }

    @Override
    public void suspend(String name) {
        DomainObject d = registry.get(name);
        jobs.run(d, "suspend", () -> {
            if (d.state() == DomainState.PAUSED) {
                throw invalid("domain is already paused");
            }
            require(d, "domain is not running", DomainState.RUNNING);
            ipc(d, socket -> s.control().pause(socket));
            keeper.transition(d, StateReason.PAUSED_USER);
        });
    }

    @Override
    public void resume(String name) {
        DomainObject d = registry.get(name);
        jobs.run(d, "resume", () -> {
            if (d.state() == DomainState.RUNNING || d.state() == DomainState.SHUTDOWN) {
                throw invalid("domain is not paused");
            }
            require(d, "domain is not running", DomainState.PAUSED);
            ipc(d, socket -> s.control().resume(socket));
            keeper.transition(d, StateReason.UNPAUSED);
        });
    }

    // ---- tunables ----

    @Override
    public void setMemory(String name, long bytes) {
        DomainObject d = registry.get(name);
        jobs.run(d, "setMemory", () -> {
            DomainDefinition def = d.effectiveDefinition();
            if (bytes < MIB || bytes > def.maxMemoryBytes()) {
                throw new KvmtoolException(ErrorCode.INVALID_ARG, "memory " + bytes + " bytes is outside 1 MiB.."
                        + def.maxMemoryBytes() + " bytes (the maximum)");
            }
            if (d.state().isActive()) {
                DomainRun run = d.run();
                if (!run.definition.devices().balloon()) {
                    throw invalid("domain '" + name + "' has no memory balloon: its memory cannot change while it runs");
                }
                // kvmtool's balloon takes a relative size in MiB: positive inflates (the guest gets less)
                int delta = (int) ((run.currentMemoryBytes - bytes) / MIB);
                if (delta != 0) {
                    ipc(d, socket -> s.control().balloon(socket, delta));
                }
                run.currentMemoryBytes -= delta * MIB;
                keeper.persist(d); // the persistent definition keeps its own currentMemory
            } else {
                DomainDefinition next = def.withCurrentMemory(bytes);
                definitions.write(name, s.codec().format(next));
                d.setPersistentDefinition(next);
            }
        });
    }

    @Override
    public void setAutostart(String name, boolean autostart) {
        DomainObject d = registry.get(name);
        jobs.run(d, "setAutostart", () -> {
            if (!d.isPersistent()) {
                throw invalid("cannot set autostart for transient domain '" + name + "'");
            }
            definitions.setAutostart(name, autostart);
            d.setAutostart(autostart);
        });
    }

    @Override
    public void setCpuShares(String name, long shares) {
        if (shares < 2 || shares > 262144) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "cpu shares " + shares + " outside 2..262144");
        }
        DomainObject d = registry.get(name);
        jobs.run(d, "setCpuShares", () -> tune(d, g -> s.cgroups().setCpuShares(g, shares),
                def -> def.withTunables(shares, def.memoryHardLimitBytes())));
    }

    @Override
    public void setMemoryLimit(String name, long bytes) {
        Long limit = bytes < 0 ? null : bytes;
        DomainObject d = registry.get(name);
        jobs.run(d, "setMemoryLimit", () -> tune(d, g -> s.cgroups().setMemoryLimit(g, bytes),
                def -> def.withTunables(def.cpuShares(), limit)));
    }

    /** Live through the cgroup when active, then kept in the live and the persistent definition. */
    private void tune(DomainObject d, java.util.function.Consumer<org.kvmtool.manager.api.CgroupRef> live,
                      java.util.function.UnaryOperator<DomainDefinition> change) {
        DomainRun run = d.state().isActive() ? d.run() : null;
        if (run != null) {
            if (run.cgroup == null) {
                throw new KvmtoolException(ErrorCode.NO_SUPPORT, "domain '" + d.name + "' has no cgroup: "
                        + s.cgroups().support().reason());
            }
            live.accept(run.cgroup);
        }
        if (d.isPersistent()) {
            DomainDefinition next = change.apply(d.persistentDefinition());
            definitions.write(d.name, s.codec().format(next));
            d.setPersistentDefinition(next);
        }
        if (run != null) {
            DomainDefinition nextLive = change.apply(run.definition);
            String xml = s.codec().format(nextLive);
            synchronized (d) {
                run.definition = nextLive;
                run.definitionXml = xml;
            }
            keeper.persist(d);
        }
    }

    // ---- reading ----

    @Override
    public String dumpXml(String name) {
        return s.codec().format(registry.get(name).effectiveDefinition());
    }

    @Override
    public CgroupStats stats(String name) {
        DomainObject d = registry.get(name);
        DomainRun run = d.run();
        if (run == null || !d.state().isActive()) {
            return new CgroupStats(0, 0, -1, -1, List.of(), CgroupStats.Source.CGROUP);
        }
        return s.cgroups().stats(run.cgroup, run.pid());
    }

    /** No job: the counters are the taps' own, read from sysfs, and the live definition is one consistent read. */
    @Override
    public List<InterfaceStats> interfaceStats(String name) {
        DomainObject d = registry.get(name);
        DomainRun run = d.run();
        if (run == null || !d.state().isActive()) {
            throw invalid("domain is not running");
        }
        return run.definition.devices().interfaces().stream().filter(DomainDefinition.NetInterface::hasTap)
                .map(s.network()::stats).toList();
    }

    @Override
    public String consoleLog(String name, int maxBytes) {
        registry.get(name);
        return new String(s.console().tail(name, Math.max(0, maxBytes)), StandardCharsets.UTF_8);
    }

    @Override
    public void sendConsole(String name, String text) {
        requireActive(registry.get(name));
        s.console().write(name, text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public ConsoleAttachment attachConsole(String name, boolean force, ConsoleListener listener) {
        requireActive(registry.get(name));
        return s.console().attach(name, force, listener);
    }

    @Override
    public Map<String, Long> memoryStats(String name) {
        DomainObject d = registry.get(name);
        return jobs.call(d, "memoryStats", () -> {
            require(d, "domain is not running", DomainState.RUNNING);
            java.util.concurrent.atomic.AtomicReference<Map<String, Long>> out = new java.util.concurrent.atomic.AtomicReference<>();
            ipc(d, socket -> out.set(s.control().stat(socket, settings.ipcTimeout())));
            return out.get();
        });
    }

    @Override
    public void addListener(DomainEventListener listener) {
        events.addListener(listener);
    }

    @Override
    public void removeListener(DomainEventListener listener) {
        events.removeListener(listener);
    }

    // ---- helpers ----

    /**
     * An IPC request to the domain's lkvm. If lkvm has just ended (its exit is queued behind this job), the
     * caller hears the truth, "domain is not running", not a connection error.
     */
    private void ipc(DomainObject d, java.util.function.Consumer<String> request) {
        DomainRun run = d.run();
        try {
            request.accept(run.socketPath);
        } catch (KvmtoolException e) {
            if (run.process != null && endsWithin(run, IPC_FAILURE_EXIT_WAIT_MILLIS)) {
                throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "domain is not running", e);
            }
            throw e;
        }
    }

    /**
     * A killed lkvm drops its connections before /proc shows it ended: an IPC failure gets a short look at
     * the process before it is reported as a failure of a running domain.
     */
    private boolean endsWithin(DomainRun run, long millis) {
        return s.spawner().awaitExit(run.process, java.time.Duration.ofMillis(millis));
    }

    private static void require(DomainObject d, String message, DomainState... allowed) {
        DomainState now = d.state();
        for (DomainState a : allowed) {
            if (a == now) {
                return;
            }
        }
        throw invalid(message);
    }

    private static void requireActive(DomainObject d) {
        if (!d.state().isActive()) {
            throw invalid("domain is not running");
        }
    }

    private static KvmtoolException invalid(String message) {
        return new KvmtoolException(ErrorCode.OPERATION_INVALID, message);
    }

    private HypervisorInfo probe() {
        HypervisorInfo h = hypervisor.get();
        if (h == null || !h.available()) {
            h = s.hypervisor().probe(settings.lkvmBinary());
            hypervisor.set(h);
        }
        return h;
    }

    private String binary() {
        HypervisorInfo h = probe();
        if (!h.available()) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "lkvm is not available: " + h.reason());
        }
        return h.binary();
    }

    private static void createDirectories(DriverSettings settings) {
        for (Path p : List.of(settings.configDir(), settings.runDir(), settings.logDir())) {
            try {
                Files.createDirectories(p);
            } catch (IOException e) {
                throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot create " + p + ": " + AtomicFile.reason(e), e);
            }
        }
    }
}
