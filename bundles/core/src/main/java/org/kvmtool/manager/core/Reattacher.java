package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.HashSet;
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
 * update or refresh. Definitions are loaded; each status file is checked against the live process by
 * identity; the living are adopted (console, cgroup, exit watch), the dead become shutoff with the reason
 * they left behind and their leftovers (ghost socket, cgroup, HOME) are cleaned. Nothing is ever killed here.
 */
final class Reattacher {
    private static final Logger LOG = Logger.getLogger(Reattacher.class.getName());

    /** How many domains were adopted and how many were found dead. */
    record Result(int adopted, int ended) {
    }

    private final Services s;
    private final DriverSettings settings;
    private final DefinitionStore definitions;
    private final StatusStore statuses;
    private final DomainRegistry registry;
    private final DomainProcess process;
    private final Supervisor supervisor;
    private final Clock clock;
    private final Path procDir;

    Reattacher(Services s, DriverSettings settings, DefinitionStore definitions, StatusStore statuses,
               DomainRegistry registry, DomainProcess process, Supervisor supervisor, Clock clock, Path procDir) {
        this.procDir = procDir;
        this.s = s;
        this.settings = settings;
        this.definitions = definitions;
        this.statuses = statuses;
        this.registry = registry;
        this.process = process;
        this.supervisor = supervisor;
        this.clock = clock;
    }

    /** The definition files as read (canonical XML), by name: a run of an unchanged definition is not parsed twice. */
    private Map<String, String> persistentXml = Map.of();

    /**
     * Adoptions run side by side: each waits mostly on lkvm (one IPC round trip, which on a busy host is the wait
     * for 200 lkvm processes to be scheduled), not on the CPU. 8 left that wait in the activation time (200 idle
     * stand-in guests: 498 ms against 70 ms with none running); 32 hide it (609 ms against 600 ms, same load).
     * The threads live only for the activation.
     */
    private static final int PARALLEL = 32;

    Result run() {
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
            loadDefinitions(pool);
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
        cleanInactiveCgroups();
        if (allRead) {
            Set<String> live = liveHomes(named);
            removeHomesOfNoRun(live);
            removeTapsOfNoRun(live);
        } else {
            LOG.warning("HOME dirs and taps not cleaned: a status file was left unread");
        }
        return new Result(adopted.get(), ended.get());
    }

    /**
     * HOME dirs (runDir/home/ID) that no active run owns: what a start cut short before its status file left
     * (the helper then ends without exec), or a crash between a stop's end and its cleanup. Nothing runs in
     * them: every lkvm of this manager has a status file, written before it runs, naming its HOME.
     */
    private void removeHomesOfNoRun(Set<String> live) {
        Path homeRoot = settings.runDir().resolve("home");
        if (!Files.isDirectory(homeRoot)) {
            return;
        }
        try (var homes = Files.newDirectoryStream(homeRoot)) {
            for (Path h : homes) {
                if (!live.contains(h.toString())) {
                    LOG.info(() -> "removing " + h + ": no run of this manager owns it");
                    deleteTree(h);
                }
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "HOME dirs under " + homeRoot + " not cleaned: " + e.getMessage(), e);
        }
    }

    /** Every status file's HOME (one left alone keeps its socket), and the runs a recovered file adopted. */
    private Set<String> liveHomes(Set<String> named) {
        Set<String> live = new HashSet<>(named);
        for (DomainObject d : registry.all()) {
            DomainRun r = d.run();
            if (r != null) {
                live.add(r.homeDir);
            }
        }
        return live;
    }

    /**
     * Taps made for runs that no status file names: a start cut short between making its taps and writing its
     * status file (a dead guest's run has a file, and its stop removed them above). Taps carry their run's HOME.
     */
    private void removeTapsOfNoRun(Set<String> live) {
        try {
            List<String> removed = s.network().removeOrphans(settings.runDir().resolve("home") + "/", live);
            if (!removed.isEmpty()) {
                LOG.info(() -> "removed taps " + removed + ": no run of this manager owns them");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "taps of no run not cleaned: " + e.getMessage(), e);
        }
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
        Path homeRoot = settings.runDir().resolve("home");
        List<LostRun.Found> lkvms = LostRun.find(procDir, homeRoot, name, inGroup, s.spawner());
        if (lkvms.isEmpty()) {
            statuses.delete(name);
            removeGhostHomes(homeRoot, name);
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

    /** HOME dirs (runDir/home/ID) that hold a socket of {@code name} and belong to no active run: ghosts. */
    private void removeGhostHomes(Path homeRoot, String name) {
        List<String> live = new ArrayList<>();
        for (DomainObject d : registry.all()) {
            DomainRun r = d.run();
            if (r != null) {
                live.add(r.homeDir);
            }
        }
        if (!Files.isDirectory(homeRoot)) {
            return;
        }
        try (var homes = Files.newDirectoryStream(homeRoot)) {
            for (Path h : homes) {
                if (Files.exists(h.resolve(".lkvm").resolve(name + ".sock"), java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        && !live.contains(h.toString())) {
                    deleteTree(h);
                }
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, name + ": ghost HOME under " + homeRoot + " not removed: " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (var all = Files.walk(root)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Parsed side by side (the XML codec is most of an activation's CPU), registered in the files' order. */
    private void loadDefinitions(ExecutorService pool) throws InterruptedException {
        Map<String, String> files = definitions.loadAll((p, e) -> LOG.log(Level.WARNING, "unreadable definition " + p, e));
        persistentXml = files;
        List<Callable<DomainDefinition>> parses = new ArrayList<>();
        for (String xml : files.values()) {
            parses.add(() -> s.codec().parse(xml));
        }
        List<java.util.concurrent.Future<DomainDefinition>> parsed = pool.invokeAll(parses);
        int i = 0;
        for (Map.Entry<String, String> f : files.entrySet()) {
            java.util.concurrent.Future<DomainDefinition> result = parsed.get(i++);
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
    }

    private static DomainDefinition parsedOrThrow(java.util.concurrent.Future<DomainDefinition> result) throws InterruptedException {
        try {
            return result.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new KvmtoolException(org.kvmtool.manager.api.ErrorCode.INTERNAL_ERROR, String.valueOf(e.getCause()), e.getCause());
        }
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
        d.setReason(st.reason()); // loaded, not a transition: this is what the domain was
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
            try {
                Files.deleteIfExists(socket); // the ghost an lkvm killed by a signal leaves
            } catch (IOException e) {
                LOG.log(Level.WARNING, st.name() + ": ghost socket " + socket + " not removed", e);
            }
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
        d.setReason(StateReason.BOOTED);
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
                d.setReason(StateReason.PAUSED_UNKNOWN);
            } else if (vm == LkvmControl.VmState.RUNNING && recorded.state() != DomainState.RUNNING) {
                d.setReason(StateReason.RUNNING_UNKNOWN);
            }
        } catch (KvmtoolException e) {
            LOG.log(Level.FINE, d.name + ": vm state not confirmed, keeping the recorded one: " + e.getMessage(), e);
        }
    }

    private void cleanInactiveCgroups() {
        if (!s.cgroups().support().usable()) {
            return;
        }
        for (DomainObject d : registry.all()) {
            if (d.run() == null) {
                try {
                    s.cgroups().find(settings.cgroupParent(), d.name).ifPresent(g -> s.cgroups().remove(g));
                } catch (KvmtoolException e) {
                    LOG.log(Level.WARNING, d.name + ": leftover cgroup not removed: " + e.getMessage(), e);
                }
            }
        }
    }
}
