package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.CgroupService;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.NetworkService;

/**
 * Activation's last step: what runs that ended while no manager was there left behind, removed once every
 * live run is known (so nothing live is mistaken for a leftover): cgroups of inactive domains, HOME dirs
 * and taps that no run owns, ghost sockets. Nothing here touches a process.
 */
final class LeftoverSweep {
    private static final Logger LOG = Logger.getLogger(LeftoverSweep.class.getName());
    private final CgroupService cgroups;
    private final NetworkService network;
    private final String cgroupParent;
    private final Path homeRoot;
    private final DomainRegistry registry;

    LeftoverSweep(CgroupService cgroups, NetworkService network, DriverSettings settings, DomainRegistry registry) {
        this.cgroups = cgroups;
        this.network = network;
        this.cgroupParent = settings.cgroupParent();
        this.homeRoot = settings.runDir().resolve("home");
        this.registry = registry;
    }

    Path homeRoot() {
        return homeRoot;
    }

    /** The cgroups of domains without a run. */
    void inactiveCgroups() {
        if (!cgroups.support().usable()) {
            return;
        }
        for (DomainObject d : registry.all()) {
            if (d.run() == null) {
                try {
                    cgroups.find(cgroupParent, d.name).ifPresent(cgroups::remove);
                } catch (KvmtoolException e) {
                    LOG.log(Level.WARNING, d.name + ": leftover cgroup not removed: " + e.getMessage(), e);
                }
            }
        }
    }

    /**
     * HOME dirs (runDir/home/ID) that no active run owns and no status file names: what a start cut short
     * before its status file left (the helper then ends without exec), or a crash between a stop's end and its
     * cleanup. Nothing runs in them: every lkvm of this manager has a status file, written before it runs,
     * naming its HOME. {@code named}: the HOME of every status file (one left alone keeps its socket).
     */
    void homesOfNoRun(Set<String> named) {
        Set<String> live = liveHomes();
        live.addAll(named);
        removeHomes(h -> !live.contains(h.toString()), "HOME dirs",
                h -> LOG.info(() -> "removing " + h + ": no run of this manager owns it"));
    }

    /**
     * Taps whose owner mark (the HOME of the run that made them) names no live run and no status file: a start
     * cut short between making its taps and writing its status file. A dead guest's run has a file, and its stop
     * removed its taps during the reattach.
     */
    void tapsOfNoRun(Set<String> named) {
        Set<String> live = liveHomes();
        live.addAll(named);
        try {
            List<String> removed = network.removeOrphans(homeRoot + "/", live);
            if (!removed.isEmpty()) {
                LOG.info(() -> "removed taps " + removed + ": no run of this manager owns them");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "taps of no run not removed: " + e.getMessage(), e);
        }
    }

    /** HOME dirs that hold a socket of {@code name} and belong to no active run: ghosts of a lost run. */
    void ghostHomes(String name) {
        Set<String> live = liveHomes();
        removeHomes(h -> Files.exists(h.resolve(".lkvm").resolve(name + ".sock"), LinkOption.NOFOLLOW_LINKS)
                && !live.contains(h.toString()), name + ": ghost HOME", h -> { });
    }

    /** The socket an lkvm killed by a signal leaves behind (kvmtool removes it only on a normal end). */
    void ghostSocket(String name, Path socket) {
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.log(Level.WARNING, name + ": ghost socket " + socket + " not removed", e);
        }
    }

    private Set<String> liveHomes() {
        Set<String> live = new HashSet<>();
        for (DomainObject d : registry.all()) {
            DomainRun r = d.run();
            if (r != null) {
                live.add(r.homeDir);
            }
        }
        return live;
    }

    private void removeHomes(Predicate<Path> leftover, String what, java.util.function.Consumer<Path> before) {
        if (!Files.isDirectory(homeRoot)) {
            return;
        }
        try (var homes = Files.newDirectoryStream(homeRoot)) {
            for (Path h : homes) {
                if (leftover.test(h)) {
                    before.accept(h);
                    FileTrees.deleteTree(h);
                }
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, what + " under " + homeRoot + " not removed: " + e.getMessage(), e);
        }
    }
}
