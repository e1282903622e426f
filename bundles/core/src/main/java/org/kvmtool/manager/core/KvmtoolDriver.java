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
import org.kvmtool.manager.api.InterfaceStats;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LkvmControl;
import org.kvmtool.manager.api.ManagerInfo;
import org.kvmtool.manager.api.NetworkService;
import org.kvmtool.manager.api.Operation;
import org.kvmtool.manager.api.ProcessSpawner;
import org.kvmtool.manager.api.SecurityDriver;
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
 * The stateful driver in libvirt's driver-layer shape: each operation looks its domain up, checks the
 * precondition ({@link Operation}'s table), takes the domain's job and calls the process layer
 * ({@link DomainProcess}, {@link LkvmIpc}); state and its events change in {@link StateKeeper}, definitions
 * in {@link DefinitionKeeper}. All state is rebuilt from files at activation ({@link Reattacher}) and nothing
 * is ended at deactivation, so a restart, update or refresh of the bundle never touches a guest.
 */
@Component(service = DomainDriver.class, configurationPid = "org.kvmtool.manager", immediate = true)
@Designate(ocd = ManagerConfig.class)
public final class KvmtoolDriver implements DomainDriver {
    private static final Logger LOG = Logger.getLogger(KvmtoolDriver.class.getName());

    private final Services s;
    private final DriverSettings settings;
    private final String version;
    private final DomainRegistry registry = new DomainRegistry();
    private final DefinitionKeeper definitions;
    private final EventDispatcher events;
    private final StateKeeper keeper;
    private final Supervisor supervisor = new Supervisor();
    private final DomainProcess process;
    private final Jobs jobs;
    private final LkvmIpc ipc;
    private final StartAbort startAbort;
    private final HypervisorProbe hypervisor;
    private final Reattacher.Result reattached;

    @Activate
    public KvmtoolDriver(ManagerConfig config, BundleContext context,
                         @Reference(name = "codec") DomainXmlCodec codec,
                         @Reference(name = "hypervisor") Hypervisor hypervisor,
                         @Reference(name = "spawner") ProcessSpawner spawner,
                         @Reference(name = "exitWatcher") ExitWatcher exits,
                         @Reference(name = "control") LkvmControl control,
                         @Reference(name = "cgroups") CgroupService cgroups,
                         @Reference(name = "console") ConsoleService console,
                         @Reference(name = "security") SecurityDriver security,
                         @Reference(name = "network") NetworkService network,
                         @Reference(name = "eventAdmin", cardinality = ReferenceCardinality.OPTIONAL,
                                 policyOption = ReferencePolicyOption.GREEDY) EventAdmin eventAdmin) {
        this(config, HostEnvironment.current(), new Services(codec, hypervisor, spawner, exits, control, cgroups, console,
                security, network), eventAdmin, context.getBundle().getVersion().toString());
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
        AtomicFile files = new AtomicFile(io);
        createDirectories(settings);
        DefinitionStore definitionFiles = new DefinitionStore(settings.configDir(), settings.autostartDir(), files);
        StatusStore statuses = new StatusStore(settings.statusDir(), files);
        this.events = new EventDispatcher(eventAdmin, clock);
        this.keeper = new StateKeeper(statuses, events);
        this.definitions = new DefinitionKeeper(definitionFiles, services.codec(), registry, keeper, clock);
        this.jobs = new Jobs(registry, settings.jobWaitTimeout());
        this.hypervisor = new HypervisorProbe(services.hypervisor()::probe, settings.lkvmBinary());
        this.ipc = new LkvmIpc(services.spawner(), LkvmIpc.EXIT_WAIT);
        this.startAbort = new StartAbort(services.spawner());
        this.process = new DomainProcess(services, settings, statuses, keeper, clock,
                () -> settings.systemMode() ? LkvmUser.resolve(settings.lkvmUser(), host.etcDir(), host.devKvm())
                        : LkvmUser.SAME_AS_MANAGER,
                hypervisor::binary, registry::nextId, host.procDir(), supervisor);
        supervisor.wire(process, jobs);
        long t0 = System.nanoTime();
        this.reattached = new Reattacher(services, settings, definitionFiles, statuses, keeper, registry, process, supervisor, clock, host.procDir()).run();
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
        return new ManagerInfo(settings.uri(), version, hypervisor.info(), s.cgroups().support(),
                settings.systemMode() ? settings.lkvmUser() : null);
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
                definitions.checkUnique(def, existing);
                if (existing == null) {
                    definitions.addPersistent(def, canonical);
                    return def.name();
                }
            }
            try {
                jobs.run(existing, JobKind.DEFINE, () -> definitions.redefine(existing, def, canonical));
                return def.name();
            } catch (KvmtoolException e) {
                if (e.code() != ErrorCode.NO_DOMAIN) {
                    throw e;
                }
                // it ended and went away while we waited: define it anew
            }
        }
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
            definitions.checkUnique(def, null);
            d = definitions.newTransient(def);
            d.job.begin(JobKind.CREATE, settings.jobWaitTimeout()); // free: nobody else can see it yet
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
        jobs.run(d, JobKind.UNDEFINE, () -> {
            require(d, Operation.UNDEFINE);
            definitions.remove(d);
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
        jobs.run(d, JobKind.START, () -> {
            require(d, Operation.START);
            process.start(d, d.persistentDefinition(), paused);
        });
    }

    @Override
    public void shutdown(String name) {
        DomainObject d = registry.get(name);
        jobs.run(d, JobKind.SHUTDOWN, () -> {
            require(d, Operation.SHUTDOWN);
            DomainRun run = d.run();
            ipc.send(run, socket -> s.control().gracefulShutdown(socket, () -> kickConsole(d)));
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
        boolean abortedStart = startAbort.abortStart(d); // before queueing for the job: get through a stuck start
        jobs.run(d, JobKind.DESTROY, () -> {
            if (abortedStart && !d.state().isActive()) {
                return; // the start we aborted rolled back to shutoff/destroyed
            }
            require(d, Operation.DESTROY);
            DomainRun run = d.run();
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
        jobs.run(d, JobKind.REBOOT, () -> {
            require(d, Operation.REBOOT);
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
        jobs.run(d, JobKind.SUSPEND, () -> {
            require(d, Operation.SUSPEND);
            ipc.send(d.run(), socket -> s.control().pause(socket));
            keeper.transition(d, StateReason.PAUSED_USER);
        });
    }

    @Override
    public void resume(String name) {
        DomainObject d = registry.get(name);
        jobs.run(d, JobKind.RESUME, () -> {
            require(d, Operation.RESUME);
            ipc.send(d.run(), socket -> s.control().resume(socket));
            keeper.transition(d, StateReason.UNPAUSED);
        });
    }

    // ---- tunables ----

    @Override
    public void setMemory(String name, long bytes) {
        DomainObject d = registry.get(name);
        jobs.run(d, JobKind.SET_MEMORY, () -> {
            require(d, Operation.SET_MEMORY);
            DomainDefinition def = d.effectiveDefinition();
            Balloon.checkTarget(bytes, def.maxMemoryBytes());
            if (d.state().isActive()) {
                DomainRun run = d.run();
                if (!run.definition.devices().balloon()) {
                    throw invalid("domain '" + name + "' has no memory balloon: its memory cannot change while it runs");
                }
                int step = Balloon.stepMiB(run.currentMemoryBytes, bytes);
                if (step != 0) {
                    ipc.send(run, socket -> s.control().balloon(socket, step));
                }
                run.currentMemoryBytes = Balloon.after(run.currentMemoryBytes, step);
                keeper.persist(d); // the persistent definition keeps its own currentMemory
            } else {
                definitions.changePersistent(d, persistent -> persistent.withCurrentMemory(bytes));
            }
        });
    }

    @Override
    public void setAutostart(String name, boolean autostart) {
        DomainObject d = registry.get(name);
        jobs.run(d, JobKind.SET_AUTOSTART, () -> {
            require(d, Operation.SET_AUTOSTART);
            definitions.setAutostart(d, autostart);
        });
    }

    @Override
    public void setCpuShares(String name, long shares) {
        if (shares < 2 || shares > 262144) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "cpu shares " + shares + " outside 2..262144");
        }
        DomainObject d = registry.get(name);
        jobs.run(d, JobKind.SET_CPU_SHARES, () -> tune(d, g -> s.cgroups().setCpuShares(g, shares),
                def -> def.withTunables(shares, def.memoryHardLimitBytes())));
    }

    @Override
    public void setMemoryLimit(String name, long bytes) {
        Long limit = bytes < 0 ? null : bytes;
        DomainObject d = registry.get(name);
        jobs.run(d, JobKind.SET_MEMORY_LIMIT, () -> tune(d, g -> s.cgroups().setMemoryLimit(g, bytes),
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
        definitions.changePersistent(d, change);
        if (run != null) {
            definitions.changeLive(d, run, change);
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
        require(registry.get(name), Operation.CONSOLE);
        s.console().write(name, text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public ConsoleAttachment attachConsole(String name, boolean force, int historyBytes, ConsoleListener listener) {
        require(registry.get(name), Operation.CONSOLE);
        return s.console().attach(name, force, historyBytes, listener);
    }

    @Override
    public Map<String, Long> memoryStats(String name) {
        DomainObject d = registry.get(name);
        return jobs.call(d, JobKind.MEMORY_STATS, () -> {
            require(d, Operation.MEMORY_STATS);
            return ipc.ask(d.run(), socket -> s.control().stat(socket, settings.ipcTimeout()));
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

    /** The precondition of {@code op}: {@link Operation}'s table, the one the edges read too. */
    private static void require(DomainObject d, Operation op) {
        op.check(d.state(), d.isPersistent(), d.name);
    }

    private static KvmtoolException invalid(String message) {
        return new KvmtoolException(ErrorCode.OPERATION_INVALID, message);
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
