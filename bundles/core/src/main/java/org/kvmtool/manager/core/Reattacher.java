package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LkvmControl;
import org.kvmtool.manager.api.StateReason;

/**
 * Activation: rebuilds every domain from the files, since a DS component keeps nothing across a restart,
 * update or refresh. The definitions are loaded first ({@link DefinitionLoader}); then each status file is
 * checked against the live process by identity: the living are adopted (console, cgroup, exit watch), the
 * dead become shutoff with the reason they left behind; last, the leftovers of runs that ended go
 * ({@link LeftoverSweep}). Nothing is ever killed here.
 */
final class Reattacher {
    private static final Logger LOG = Logger.getLogger(Reattacher.class.getName());

    /** How many domains were adopted and how many were found dead. */
    record Result(int adopted, int ended) {
    }

    private final Services s;
    private final DriverSettings settings;
    private final StatusStore statuses;
    private final StateKeeper keeper;
    private final DomainRegistry registry;
    private final DomainProcess process;
    private final Supervisor supervisor;
    private final Clock clock;
    private final Path procDir;
    private final DefinitionLoader loader;
    private final LeftoverSweep sweep;
    /** The definition files as read (canonical XML), by name: a run of an unchanged definition is not parsed twice. */
    private Map<String, String> persistentXml = Map.of();

    Reattacher(Services s, DriverSettings settings, DefinitionStore definitions, StatusStore statuses,
               StateKeeper keeper, DomainRegistry registry, DomainProcess process, Supervisor supervisor, Clock clock, Path procDir) {
        this.procDir = procDir;
        this.s = s;
        this.settings = settings;
        this.statuses = statuses;
        this.keeper = keeper;
        this.registry = registry;
        this.process = process;
        this.supervisor = supervisor;
        this.clock = clock;
        this.loader = new DefinitionLoader(definitions, s.codec(), registry, clock);
        this.sweep = new LeftoverSweep(s.cgroups(), s.network(), settings, registry);
    }

    /**
     * Adoptions run side by side: each waits mostly on lkvm (one IPC round trip, which on a busy host is the wait
     * for 200 lkvm processes to be scheduled), not on the CPU. 8 left that wait in the activation time (200 idle
     * stand-in guests: 498 ms against 70 ms with none running); 32 hide it (609 ms against 600 ms, same load).
     * The threads live only for the activation.
     */
    private static final int PARALLEL = 32;

    Result run() {
        giveBackWhatNoRunHolds();
        List<Path> malformed = new ArrayList<>();
        // the HOME every readable status file names; HOMEs are cleaned only if every file was read or recovered
        Set<String> named = ConcurrentHashMap.newKeySet();
        boolean allRead = false;
        AtomicInteger adopted = new AtomicInteger();
        AtomicInteger ended = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL, r -> {
            Thread t = new Thread(r, "kvmtool-reattach");
            t.setDaemon(true);
            return t;
        });
        try {
            persistentXml = loader.load(pool);
            // each file is read in its task: reading them one by one (Properties unescapes the long definition
            // line character by character) was a fifth of a driver update's time with 200 guests
            List<Callable<Void>> tasks = new ArrayList<>();
            for (Path file : statuses.files()) {
                tasks.add(() -> {
                    DomainStatus st;
                    try {
                        st = statuses.load(file);
                        named.add(st.homeDir());
                    } catch (IOException | RuntimeException e) {
                        LOG.log(Level.WARNING, "malformed status file " + file + " (" + e + "): its lkvm is looked for by name", e);
                        synchronized (malformed) {
                            malformed.add(file);
                        }
                        return null;
                    }
                    try {
                        (reattach(st) ? adopted : ended).incrementAndGet();
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, st.name() + ": cannot reattach (status file left alone): " + e.getMessage(), e);
                    }
                    return null;
                });
            }
            pool.invokeAll(tasks);
            allRead = true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            pool.shutdown();
        }
        // after the readable ones: every run they adopted is known, so a ghost HOME is not mistaken for a live one
        for (Path p : malformed) {
            try {
                (recover(p) ? adopted : ended).incrementAndGet();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, p + ": cannot recover (status file left alone): " + e.getMessage(), e);
                allRead = false; // left alone, unread: it could name any HOME
            }
        }
        sweep.inactiveCgroups();
        if (allRead) {
            sweep.homesOfNoRun(named);
            sweep.tapsOfNoRun(named);
        } else {
            LOG.warning("HOME dirs and taps not cleaned: a status file was left unread");
        }
        return new Result(adopted.get(), ended.get());
    }

    /**
     * A status file that does not parse says nothing reliable, so the processes decide: the domain's lkvm found
     * by name ({@link LostRun}) is adopted under a rewritten status file; if none runs the domain is shutoff,
     * and the bad file and any ghost HOME of that name go. True if adopted.
     */
    private boolean recover(Path file) {
        String name = StatusStore.nameOf(file);
        List<Long> inGroup = new ArrayList<>();
        if (s.cgroups().support().usable()) {
            s.cgroups().find(settings.cgroupParent(), name)
                    .ifPresent(g -> inGroup.addAll(LostRun.pidsIn(s.cgroups().procsFiles(g))));
        }
        List<LostRun.Found> lkvms = LostRun.find(procDir, sweep.homeRoot(), name, inGroup, s.spawner());
        if (lkvms.isEmpty()) {
            statuses.delete(name);
            sweep.ghostHomes(name);
            if (s.cgroups().support().usable()) {
                s.cgroups().find(settings.cgroupParent(), name).ifPresent(g -> s.cgroups().remove(g));
            }
            LOG.warning(() -> name + ": no lkvm of this domain runs: shutoff; malformed " + file + " removed");
            return false;
        }
        LostRun.Found f = lkvms.get(0);
        if (lkvms.size() > 1) {
            LOG.warning(() -> name + ": " + lkvms.size() + " lkvm run under this name; adopting pid " + f.process().pid()
                    + ", the others are left alone: " + lkvms);
        }
        DomainDefinition def = liveDefinition(file, name);
        if (def == null) {
            throw new KvmtoolException(org.kvmtool.manager.api.ErrorCode.INTERNAL_ERROR, "lkvm " + f.process().pid()
                    + " runs for '" + name + "', a transient domain whose definition was only in the malformed " + file);
        }
        DomainStatus st = new DomainStatus(name, def.uuid(), f.id(), f.process(), f.startedAtMillis(), f.ptySlave(),
                null, f.homeDir(), s.hypervisor().socketPath(f.homeDir(), name), StateReason.RUNNING_UNKNOWN, false,
                def.currentMemoryBytes(), s.codec().format(def));
        try {
            statuses.write(st);
        } catch (KvmtoolException e) {
            LOG.log(Level.WARNING, name + ": status file not rewritten: " + e.getMessage(), e);
        }
        LOG.warning(() -> name + ": lkvm " + f.process().pid() + " found by name, adopted; " + file + " rewritten");
        return reattach(st);
    }

    /** The live definition salvaged from the damaged file if its line survived, else the persistent one. */
    private DomainDefinition liveDefinition(Path file, String name) {
        try {
            String text = new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.UTF_8);
            java.util.Optional<String> xml = StatusStore.salvageDefinition(text);
            if (xml.isPresent()) {
                DomainDefinition def = s.codec().parse(xml.get());
                if (def.name().equals(name)) {
                    return def;
                }
            }
        } catch (IOException | KvmtoolException e) {
            LOG.log(Level.FINE, name + ": no definition salvaged from " + file + ": " + e.getMessage(), e);
        }
        DomainObject d = registry.find(name).orElse(null);
        return d == null ? null : d.persistentDefinition();
    }

    /** True if adopted. */
    private boolean reattach(DomainStatus st) {
        DomainObject d = registry.find(st.name()).orElse(null);
        // both are the codec's canonical form: equal text is an equal definition (immutable, so shared)
        DomainDefinition live = d != null && d.isPersistent() && st.definitionXml().equals(persistentXml.get(st.name()))
                ? d.persistentDefinition() : s.codec().parse(st.definitionXml());
        if (d == null) {
            d = new DomainObject(st.name(), st.uuid(), clock); // transient
            synchronized (registry.namespace()) {
                registry.add(d);
            }
        } else if (!d.uuid.equals(st.uuid())) {
            throw new KvmtoolException(org.kvmtool.manager.api.ErrorCode.INTERNAL_ERROR,
                    "status uuid " + st.uuid() + " differs from the definition's " + d.uuid);
        }
        registry.reserveIdsUpTo(st.id());
        DomainRun run = new DomainRun(st.id(), live, st.definitionXml(), st.homeDir(), st.socketPath());
        run.process = st.process();
        run.ptySlave = st.ptySlave();
        run.cgroup = st.cgroup();
        run.startedAtMillis = st.startedAtMillis();
        run.stopRequested = st.stopRequested();
        run.currentMemoryBytes = st.currentMemoryBytes();
        keeper.load(d, st.reason());
        boolean alive = s.spawner().isAlive(st.process());
        Path socket = st.socketPath() == null ? null : Path.of(st.socketPath());
        boolean socketLeft = socket != null && Files.exists(socket);
        // a start cut short (the manager died between recording the pid and "running") left a shutoff reason
        boolean startCompleted = st.reason().state().isActive();
        ReattachPolicy.Decision decision = ReattachPolicy.decide(alive, st.stopRequested(), socketLeft, startCompleted);
        if (decision.adopt()) {
            process.adopt(d, run);
            if (!startCompleted) {
                completeStart(d, st);
            }
            correctState(d, run);
            if (d.state() == DomainState.SHUTDOWN) {
                supervisor.armShutdownTimer(d, run, settings.shutdownTimeout());
            }
            return true;
        }
        if (socketLeft) {
            sweep.ghostSocket(st.name(), socket);
        }
        d.setRun(run);
        // the console service may still hold its console (it outlives the driver): released last, as at a stop
        run.consoleOpen = st.ptySlave() != null;
        LOG.info(() -> st.name() + ": lkvm " + st.process().pid() + " ended while the manager was away: " + decision.shutoffReason().word());
        if (run.cgroup == null && s.cgroups().support().usable()) {
            run.cgroup = s.cgroups().find(settings.cgroupParent(), st.name()).orElse(null);
        }
        process.stop(d, decision.shutoffReason(), true);
        registry.dropIfGone(d);
        return false;
    }

    /** lkvm of a start cut short runs: the start is over, the domain runs, and its file says so from now on. */
    private void completeStart(DomainObject d, DomainStatus st) {
        keeper.corrected(d, StateReason.BOOTED);
        try {
            statuses.write(st.withReason(StateReason.BOOTED));
        } catch (KvmtoolException e) {
            LOG.log(Level.WARNING, d.name + ": status file not rewritten: " + e.getMessage(), e);
        }
        LOG.warning(() -> d.name + ": its start was cut short by the manager's end, but lkvm " + st.process().pid()
                + " runs: adopted as running");
    }

    /** A status that could not be rewritten (full disk) may lag behind a pause or resume: ask lkvm. */
    private void correctState(DomainObject d, DomainRun run) {
        StateReason recorded = d.reason();
        if (recorded.state() != DomainState.RUNNING && recorded.state() != DomainState.PAUSED) {
            return;
        }
        try {
            LkvmControl.VmState vm = s.control().vmState(run.socketPath);
            if (vm == LkvmControl.VmState.PAUSED && recorded.state() != DomainState.PAUSED) {
                keeper.corrected(d, StateReason.PAUSED_UNKNOWN);
            } else if (vm == LkvmControl.VmState.RUNNING && recorded.state() != DomainState.RUNNING) {
                keeper.corrected(d, StateReason.RUNNING_UNKNOWN);
            }
        } catch (KvmtoolException e) {
            LOG.log(Level.FINE, d.name + ": vm state not confirmed, keeping the recorded one: " + e.getMessage(), e);
        }
    }

    /**
     * Files lent to runs that are over with no status file to say so: a manager killed after a start lent them
     * and before its status file, or after a stop deleted the file and before it gave them back. Done first,
     * while nothing else runs: a domain with a status file (readable or not) is left to its reattach, whose stop
     * gives back if its lkvm is dead; once adoption begins, an adopted guest's end may restart it meanwhile.
     */
    private void giveBackWhatNoRunHolds() {
        Set<String> live = new HashSet<>();
        try {
            statuses.files().forEach(f -> live.add(StatusStore.nameOf(f)));
        } catch (KvmtoolException e) {
            LOG.log(Level.WARNING, "lent files not recovered: " + e.getMessage(), e);
            return;
        }
        s.security().recover(settings.lentDir(), live);
    }
}
