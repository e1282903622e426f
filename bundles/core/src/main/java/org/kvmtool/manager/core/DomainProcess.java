package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.ExitInfo;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.Pty;
import org.kvmtool.manager.api.SecurityDriver;
import org.kvmtool.manager.api.SpawnRequest;
import org.kvmtool.manager.api.StateReason;

/**
 * The process layer (libvirt's qemu_process): start as one fixed sequence, stop as one idempotent
 * teardown that is also start's only rollback. Callers hold the domain's job; nothing here takes a lock.
 */
final class DomainProcess {
    private static final Logger LOG = Logger.getLogger(DomainProcess.class.getName());

    /** Where the exit watcher's news goes (the driver's exit handler). */
    interface ExitSink {
        void exited(DomainObject d, DomainRun run, ExitInfo info);
    }

    private final Services s;
    private final DriverSettings settings;
    private final StatusStore status;
    private final StateKeeper keeper;
    private final Clock clock;
    private final Supplier<LkvmUser> user;
    private final Supplier<String> binary;
    private final IntSupplier ids;
    private final java.nio.file.Path procDir;
    private final ExitSink sink;

    DomainProcess(Services s, DriverSettings settings, StatusStore status, StateKeeper keeper, Clock clock,
                  Supplier<LkvmUser> user, Supplier<String> binary, IntSupplier ids, java.nio.file.Path procDir,
                  ExitSink sink) {
        this.s = s;
        this.settings = settings;
        this.status = status;
        this.keeper = keeper;
        this.clock = clock;
        this.user = user;
        this.binary = binary;
        this.ids = ids;
        this.procDir = procDir;
        this.sink = sink;
    }

    /**
     * Starts lkvm for {@code def}: resolve argv, HOME, cgroup and limits, pty, console, spawn (status file before exec), wait for IPC, close
     * our master, watch the exit, running. Any failure undoes exactly what was done through
     * {@link #stop} and throws an error that carries lkvm's own words when it said any.
     */
    void start(DomainObject d, DomainDefinition def, boolean paused) {
        int id = ids.getAsInt();
        String home = settings.homeDir(id).toString();
        // checks that need no undo come first: a definition that cannot run changes nothing
        String lkvm = binary.get();
        String socket = s.hypervisor().socketPath(home, d.name);
        LkvmUser as = user.get();
        if (!s.cgroups().support().usable() && (def.cpuShares() != null || def.memoryHardLimitBytes() != null)) {
            throw new KvmtoolException(ErrorCode.CONFIG_UNSUPPORTED, "domain '" + d.name
                    + "' sets cputune/memtune but cgroups are not usable: " + s.cgroups().support().reason());
        }
        String hugetlbfs = def.hugepages() ? HugePages.directory(def, settings.hugetlbfsMount(), procDir, as) : null;
        s.hypervisor().commandLine(provisional(def), lkvm, home, hugetlbfs);
        DomainRun run = new DomainRun(id, def, s.codec().format(def), home, socket);
        d.setRun(run);
        try {
            // the taps and the vsock CID first: lkvm's argv names them (the live definition says what was chosen)
            DomainDefinition live = hostDevices(d, run, def, as);
            List<String> argv = s.hypervisor().commandLine(live, lkvm, home, hugetlbfs);
            prepareHome(run, as);
            // the files lkvm's user must open lent to it, and the locks lkvm will hold (undone by stop)
            SecurityDriver.Lease lease = s.security().prepare(settings.lentDir(), def, as.uid(), as.gid(),
                    as.supplementaryGroups());
            if (s.cgroups().support().usable()) {
                run.cgroup = s.cgroups().create(settings.cgroupParent(), d.name);
                if (def.cpuShares() != null) {
                    s.cgroups().setCpuShares(run.cgroup, def.cpuShares());
                }
                if (def.memoryHardLimitBytes() != null) {
                    s.cgroups().setMemoryLimit(run.cgroup, def.memoryHardLimitBytes());
                }
            }
            Pty pty = s.console().allocate();
            run.masterFd = pty.masterFd();
            run.ptySlave = pty.slavePath();
            s.console().open(d.name, pty.slavePath(), 0, settings.consoleLog(d.name).toString(), settings.consoleLogMaxBytes());
            run.consoleOpen = true;
            d.job.checkAborted();
            List<String> procs = run.cgroup == null ? List.of() : s.cgroups().procsFiles(run.cgroup);
            // the status file is written while the helper holds lkvm before exec: a manager killed at any point
            // of a start either leaves no lkvm or leaves a file that names it (the helper ends if we die first)
            try {
                run.process = s.spawner().spawn(new SpawnRequest(argv, home, run.masterFd, procs, as.uid(), as.gid(),
                        as.supplementaryGroups(), lease.locks()), toBe -> {
                            run.process = toBe;
                            run.startedAtMillis = clock.millis();
                            status.write(StateKeeper.statusOf(d));
                        });
            } catch (RuntimeException e) {
                // the spawner has reaped its helper: lkvm never ran, and the helper's report (a file lkvm's user
                // cannot open, an image in use) is the whole story, not "lkvm ended while starting"
                run.process = null;
                throw e;
            }
            drainWithOwner(d, run);
            d.job.checkAborted();
            s.control().awaitReady(socket, run.process, settings.readyTimeout());
            // Our copy of the master is dropped only now: the kernel discards what the slave has not read yet
            // when the last master closes, and an lkvm that fails at once would take its own error message
            // ("Fatal: ...") with it before the console drained it.
            s.console().closeMaster(run.masterFd);
            run.masterFd = -1;
            d.job.checkAborted();
            run.exitWatch = s.exits().watch(run.process, socket, info -> sink.exited(d, run, info));
            run.vcpuThreadIds = VcpuThreads.read(procDir, run.process.pid());
        } catch (RuntimeException e) {
            StateReason reason = d.job.isAborted() ? StateReason.DESTROYED : StateReason.FAILED;
            KvmtoolException error = explain(d, run, e);
            stop(d, reason, true);
            throw error;
        }
        // lkvm runs: from here on nothing kills it; a failure is reported, the guest stays
        keeper.transition(d, StateReason.BOOTED);
        int inflate = Balloon.initialInflateMiB(def);
        if (inflate > 0) {
            try {
                s.control().balloon(socket, inflate);
            } catch (KvmtoolException e) {
                LOG.log(Level.WARNING, d.name + ": cannot set the balloon target: " + e.getMessage(), e);
                run.currentMemoryBytes = def.maxMemoryBytes();
            }
        } else {
            run.currentMemoryBytes = def.maxMemoryBytes();
        }
        if (paused) {
            s.control().pause(socket);
            keeper.transition(d, StateReason.PAUSED_USER);
        }
    }

    /**
     * The host side of the guest's devices, made through the network service: taps (named in the live definition,
     * marked with the run's HOME, which is unique to the run, so that only this run removes them) and the vsock
     * CID. The live definition becomes the run's as soon as taps exist, so a failure of a later step removes them.
     */
    private DomainDefinition hostDevices(DomainObject d, DomainRun run, DomainDefinition def, LkvmUser as) {
        DomainDefinition.Devices devices = def.devices();
        if (devices.interfaces().stream().anyMatch(DomainDefinition.NetInterface::hasTap)) {
            devices = devices.withInterfaces(s.network().prepare(d.name, run.homeDir, devices.interfaces(), as.uid(), as.gid()));
            live(d, run, def.withDevices(devices));
        }
        if (devices.vsock() != null) {
            devices = devices.withVsock(devices.vsock().withCid(s.network().acquireVsock(d.name, run.homeDir, devices.vsock())));
        }
        return devices == def.devices() ? def : live(d, run, def.withDevices(devices));
    }

    /** The definition with a stand-in for what only the start chooses (tap names, an auto CID): argv checks only. */
    private static DomainDefinition provisional(DomainDefinition def) {
        DomainDefinition.Devices devices = def.devices();
        devices = devices.withInterfaces(devices.interfaces().stream()
                .map(n -> n.hasTap() && n.tapDevice() == null ? n.withTap("kvmtap0") : n).toList());
        if (devices.vsock() != null && devices.vsock().cid() == null) {
            devices = devices.withVsock(devices.vsock().withCid(DomainDefinition.Vsock.MIN_CID));
        }
        return def.withDevices(devices);
    }

    private DomainDefinition live(DomainObject d, DomainRun run, DomainDefinition live) {
        String xml = s.codec().format(live);
        synchronized (d) {
            run.definition = live;
            run.definitionXml = xml;
        }
        return live;
    }

    /**
     * Ends the run, whatever part of it exists, and moves the domain to shutoff with {@code reason}: end lkvm
     * (STOP, then SIGKILL after the grace), release taps, vsock CID, console, pty, cgroup, socket and HOME, delete
     * the status.
     * Idempotent and never throws: every step is tried, failures are logged.
     */
    void stop(DomainObject d, StateReason reason, boolean force) {
        DomainRun run = d.run();
        boolean transition = d.state().isActive() || run != null;
        // an lkvm that has already ended is shutoff now: say so first, then clean up (still within the job)
        boolean ended = run == null || run.process == null || !s.spawner().isAlive(run.process);
        if (ended) {
            shutoff(d, transition, reason);
        }
        if (run != null) {
            release(d, run, force);
        }
        if (!ended) {
            shutoff(d, transition, reason);
        }
    }

    /** The run is gone and the state says so, in one step: no reader sees an active domain without its run. */
    private void shutoff(DomainObject d, boolean transition, StateReason reason) {
        try {
            if (transition) {
                keeper.transition(d, reason, () -> d.setRun(null));
            }
        } catch (KvmtoolException e) {
            LOG.log(Level.WARNING, d.name + ": " + e.getMessage(), e);
        } finally {
            d.setRun(null);
        }
    }

    private void release(DomainObject d, DomainRun run, boolean force) {
        if (run.shutdownTimer != null) {
            run.shutdownTimer.cancel(false);
        }
        // counted down by the reap watch started below, if one is (else nothing here has a child to wait for)
        java.util.concurrent.CountDownLatch reaped = new java.util.concurrent.CountDownLatch(
                run.process != null && run.exitWatch == null ? 1 : 0);
        if (run.process != null) {
            quietly(d, "end lkvm", () -> {
                if (s.spawner().isAlive(run.process)) {
                    s.control().terminate(run.process, run.socketPath,
                            force ? settings.destroyGrace() : settings.shutdownTimeout());
                }
            });
            if (run.exitWatch == null) {
                // nobody watches it yet: a watch reaps our child (the listener is called once it is reaped)
                quietly(d, "reap lkvm", () -> s.exits().watch(run.process, run.socketPath, info -> reaped.countDown()));
            }
        }
        // lkvm has ended (terminate waits for it): nothing holds the lent files open any more
        quietly(d, "give back the files lent to lkvm", () -> s.security().restore(settings.lentDir(), d.name));
        if (run.masterFd >= 0) {
            quietly(d, "close the pty master", () -> s.console().closeMaster(run.masterFd));
        }
        // after lkvm's end (a tap lkvm holds cannot go); the service removes only the taps this run made
        DomainDefinition.Devices devices = run.definition.devices();
        if (devices.interfaces().stream().anyMatch(DomainDefinition.NetInterface::hasTap)) {
            quietly(d, "remove the taps", () -> s.network().release(run.homeDir, devices.interfaces()));
        }
        if (devices.vsock() != null) {
            quietly(d, "release the vsock CID", () -> s.network().releaseVsock(run.homeDir));
        }
        if (run.cgroup != null) {
            // an unreaped lkvm still counts as a member of its cgroup (v1 refuses the rmdir until the reap)
            awaitQuietly(reaped, settings.destroyGrace());
            quietly(d, "remove the cgroup", () -> s.cgroups().remove(run.cgroup));
        }
        quietly(d, "remove HOME", () -> FileTrees.deleteTree(Path.of(run.homeDir)));
        // last: lkvm's final words may still be on their way from the pty to the ring
        if (run.consoleOpen) {
            quietly(d, "close the console", () -> s.console().close(d.name));
        }
    }

    /**
     * Adopts a live lkvm found by its status file: console, cgroup and exit watch as before the restart. The
     * console service re-takes a session it still drains (same slave and log) and opens the slave otherwise.
     */
    void adopt(DomainObject d, DomainRun run) {
        d.setRun(run);
        if (run.cgroup == null && s.cgroups().support().usable()) {
            run.cgroup = s.cgroups().find(settings.cgroupParent(), d.name).orElse(null);
        }
        if (run.ptySlave != null) {
            try {
                s.console().open(d.name, run.ptySlave, run.process.pid(), settings.consoleLog(d.name).toString(),
                        settings.consoleLogMaxBytes());
                run.consoleOpen = true;
            } catch (KvmtoolException e) {
                LOG.log(Level.WARNING, d.name + ": console not reopened: " + e.getMessage(), e);
            }
        }
        run.vcpuThreadIds = VcpuThreads.read(procDir, run.process.pid());
        run.exitWatch = s.exits().watch(run.process, run.socketPath, info -> sink.exited(d, run, info));
    }

    /**
     * Stops watching a live domain, leaving lkvm, its status file and its console alone: the console service
     * outlives the driver (an update or refresh of this bundle), keeps draining and logging meanwhile, and the
     * next driver re-takes the same session ({@link #adopt}). Were the slave closed, lkvm's term-poll thread
     * would spin on the hangup until it is reopened (200 guests: two cores busy for the whole reattach).
     * When the console service itself goes, it closes its consoles.
     */
    void detach(DomainObject d) {
        DomainRun run = d.run();
        if (run == null) {
            return;
        }
        if (run.shutdownTimer != null) {
            run.shutdownTimer.cancel(false);
        }
        AutoCloseable w = run.exitWatch;
        if (w != null) {
            quietly(d, "stop watching", w::close);
        }
    }

    private void prepareHome(DomainRun run, LkvmUser as) {
        Path home = Path.of(run.homeDir);
        Path lkvmDir = home.resolve(".lkvm");
        try {
            FileTrees.deleteTree(home); // a leftover of an earlier life with this id
            Files.createDirectories(lkvmDir);
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
            Files.setPosixFilePermissions(lkvmDir, PosixFilePermissions.fromString("rwx------"));
            if (as.uid() >= 0) {
                for (Path p : List.of(home, lkvmDir)) {
                    Files.setAttribute(p, "unix:uid", as.uid());
                    Files.setAttribute(p, "unix:gid", as.gid());
                }
            }
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot create " + lkvmDir + ": " + AtomicFile.reason(e), e);
        }
    }

    /**
     * Reopens the console now that lkvm's pid is known, so that the console service holds its own reference
     * to lkvm's pty master and drains to the very end when lkvm exits (the kernel discards what the slave has
     * not read once the last master closes: a guest's last words before poweroff). Our own master is still
     * open, so nothing written meanwhile is lost. An lkvm already gone fails the owner check: the console
     * then drains without it, and the start reports lkvm's own words as usual.
     */
    private void drainWithOwner(DomainObject d, DomainRun run) {
        String log = settings.consoleLog(d.name).toString();
        s.console().close(d.name);
        try {
            s.console().open(d.name, run.ptySlave, run.process.pid(), log, settings.consoleLogMaxBytes());
        } catch (KvmtoolException e) {
            LOG.fine(d.name + ": console drains without lkvm's master: " + e.getMessage());
            s.console().open(d.name, run.ptySlave, 0, log, settings.consoleLogMaxBytes());
        }
    }

    /**
     * The error a failed start reports: lkvm's own words when its console shows any; else, when lkvm ended,
     * that it ended (whatever symptom the failing step saw, e.g. an IPC reset); else the step's own error.
     * lkvm's last output and its end may lag the failure by a moment, so look a little while (failure path only).
     */
    private KvmtoolException explain(DomainObject d, DomainRun run, RuntimeException e) {
        if (d.job.isAborted()) {
            return new KvmtoolException(ErrorCode.OPERATION_FAILED, "start of domain '" + d.name + "' aborted by destroy", e);
        }
        // a status file that could not be written (before exec: lkvm never ran) is the whole story
        if (run.process != null && !(e instanceof FileWriteException)) {
            long endedAt = -1;
            for (int i = 0; i < 70; i++) {
                String said = run.consoleOpen ? LkvmMessages.failureLine(
                        new String(s.console().tail(d.name, 16 * 1024), StandardCharsets.UTF_8)) : null;
                if (said != null) {
                    return new KvmtoolException(ErrorCode.OPERATION_FAILED, "lkvm failed to start domain '" + d.name + "': " + said, e);
                }
                if (endedAt < 0 && (!s.spawner().isAlive(run.process) || ProcState.zombie(procDir, run.process))) {
                    endedAt = i;
                }
                if (endedAt >= 0 && i - endedAt >= 50 || endedAt < 0 && i >= 20) {
                    break; // ended and its last output had 500 ms to reach the ring (a loaded host); or alive and silent
                }
                sleepQuietly(10);
            }
            if (endedAt >= 0) {
                return new KvmtoolException(ErrorCode.OPERATION_FAILED, "lkvm (pid " + run.process.pid()
                        + ") ended while domain '" + d.name + "' was starting: " + e.getMessage(), e);
            }
        }
        if (e instanceof KvmtoolException k) {
            return k;
        }
        return new KvmtoolException(ErrorCode.INTERNAL_ERROR, "start of domain '" + d.name + "' failed: " + e, e);
    }

    private static void awaitQuietly(java.util.concurrent.CountDownLatch latch, java.time.Duration bound) {
        try {
            latch.await(bound.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    interface Step {
        void run() throws Exception;
    }

    private static void quietly(DomainObject d, String what, Step step) {
        try {
            step.run();
        } catch (Exception e) {
            LOG.log(Level.WARNING, d.name + ": cannot " + what + ": " + e.getMessage(), e);
        }
    }
}
