package org.kvmtool.manager.cgroups;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import org.kvmtool.manager.api.CgroupRef;
import org.kvmtool.manager.api.CgroupService;
import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.CgroupSupport;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The cgroup service: one group per domain spanning the hierarchies that hold cpu, cpuacct and memory (one
 * directory on cgroup v2; up to three on v1 and hybrid hosts, fewer where controllers are comounted). The
 * layout is detected once, at activation; see {@link LayoutDetector} and {@link GroupNames}.
 *
 * <p>Errors: NO_SUPPORT when the host offers no usable cgroups ({@link #support()} says why), INVALID_ARG for
 * a bad name, SYSTEM_ERROR naming the file and the errno text for everything the kernel refuses.
 */
// immediate: a delayed component is disposed with its last user, so an update of the driver would rebuild it
// (and a console service would drop every console's ring and reopen its pty); infrastructure outlives the driver
@Component(service = CgroupService.class, configurationPid = CgroupServiceImpl.PID, immediate = true,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = CgroupServiceImpl.Config.class)
public final class CgroupServiceImpl implements CgroupService {
    static final String PID = "org.kvmtool.manager.cgroups";

    @ObjectClassDefinition(name = "kvmtool-manager cgroups", description = "Per-domain cgroups")
    public @interface Config {
        @AttributeDefinition(description = "How long remove() waits for the processes of a group to finish "
                + "exiting (the kernel refuses rmdir with EBUSY until then)")
        long remove_timeout_millis() default 5000;
    }

    private final HostLayout layout;
    private final ProcStats proc;
    private final Duration removeTimeout;
    /** "DIR/" of each hierarchy in use, longest first. */
    private final List<Map.Entry<String, Hierarchy>> prefixes;

    @Activate
    public CgroupServiceImpl(Config config) {
        this(HostPaths.system(), Duration.ofMillis(config.remove_timeout_millis()));
    }

    CgroupServiceImpl(HostPaths paths, Duration removeTimeout) {
        this.layout = LayoutDetector.detect(paths);
        this.proc = new ProcStats(paths.proc());
        this.removeTimeout = removeTimeout;
        this.prefixes = layout.used().stream().map(h -> Map.entry(h.dir().toString() + "/", h))
                .sorted((a, b) -> b.getKey().length() - a.getKey().length()).toList();
    }

    HostLayout layout() {
        return layout;
    }

    @Override
    public CgroupSupport support() {
        CgroupSupport s = layout.support();
        return s.usable() ? s : new CgroupSupport(s.layout(), s.controllers(), false,
                s.reason() + "; per-process figures from /proc are used instead");
    }

    @Override
    public CgroupRef create(String parent, String domainName) {
        requireUsable();
        List<String> parentPath = GroupNames.parent(parent, layout.systemd());
        String name = GroupNames.group(parentPath, domainName);
        List<Path> created = new ArrayList<>();
        List<String> dirs = new ArrayList<>();
        try {
            for (Hierarchy h : layout.used()) {
                Path group = h.backend().prepareParent(h.base(), parentPath, controllersIn(h)).resolve(name);
                if (CgroupFs.mkdir(group)) {
                    created.add(group);
                }
                dirs.add(group.toString());
            }
        } catch (KvmtoolException e) {
            // no half-made group: undo what this call created in the other hierarchies
            for (Path dir : created) {
                try {
                    CgroupFs.rmdir(dir);
                } catch (KvmtoolException undo) {
                    e.addSuppressed(undo);
                }
            }
            throw e;
        }
        return ref(name, dirs);
    }

    /**
     * The group's directories in the hierarchies where it exists, empty when it exists in none. A partial
     * group is returned too (a removal cut short by a crash leaves one): cleanup must see it to remove it, and
     * create() completes it for a new run.
     */
    @Override
    public Optional<CgroupRef> find(String parent, String domainName) {
        if (!layout.usable()) {
            return Optional.empty();
        }
        List<String> parentPath = GroupNames.parent(parent, layout.systemd());
        String name = GroupNames.group(parentPath, domainName);
        List<String> dirs = new ArrayList<>();
        for (Hierarchy h : layout.used()) {
            Path group = h.base();
            for (String s : parentPath) {
                group = group.resolve(s);
            }
            group = group.resolve(name);
            if (Files.isDirectory(group)) {
                dirs.add(group.toString());
            }
        }
        return dirs.isEmpty() ? Optional.empty() : Optional.of(ref(name, dirs));
    }

    @Override
    public List<String> procsFiles(CgroupRef group) {
        return group.dirs().stream().map(d -> Path.of(d).resolve("cgroup.procs").toString()).toList();
    }

    /** cgroup.procs moves the whole thread group, so threads created before the move follow too. */
    @Override
    public void attach(CgroupRef group, long pid) {
        if (pid <= 0) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "invalid pid " + pid);
        }
        for (String file : procsFiles(group)) {
            CgroupFs.write(Path.of(file), Long.toString(pid));
        }
    }

    @Override
    public CgroupStats stats(CgroupRef group, long pid) {
        if (group == null) {
            if (pid <= 0) {
                return new CgroupStats(0, 0, -1, -1, List.of(), CgroupStats.Source.PROC);
            }
            return new CgroupStats(proc.cpuTimeNanos(pid), proc.rssBytes(pid), -1, -1, proc.vcpuTimesNanos(pid),
                    CgroupStats.Source.PROC);
        }
        Target cpuacct = target(group, "cpuacct");
        Target memory = target(group, "memory");
        Target cpu = target(group, "cpu");
        return new CgroupStats(
                cpuacct == null ? -1 : cpuacct.backend().cpuTimeNanos(cpuacct.dir()),
                memory == null ? -1 : memory.backend().memoryUsageBytes(memory.dir()),
                memory == null ? -1 : memory.backend().memoryLimitBytes(memory.dir()),
                cpu == null ? -1 : cpu.backend().cpuShares(cpu.dir()),
                pid > 0 ? proc.vcpuTimesNanos(pid) : List.of(),
                CgroupStats.Source.CGROUP);
    }

    @Override
    public void setCpuShares(CgroupRef group, long shares) {
        if (shares <= 0) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "invalid cpu shares " + shares);
        }
        Target cpu = require(group, "cpu");
        cpu.backend().setCpuShares(cpu.dir(), shares);
    }

    @Override
    public void setMemoryLimit(CgroupRef group, long bytes) {
        Target memory = require(group, "memory");
        memory.backend().setMemoryLimit(memory.dir(), bytes);
    }

    /**
     * rmdir in every hierarchy. While processes are still exiting the kernel answers EBUSY: retry with a short
     * back-off up to the configured bound, then fail naming the directory and the pids still in it. Every
     * directory is tried even when one fails, so nothing is left behind that could have gone.
     */
    @Override
    public void remove(CgroupRef group) {
        long deadline = System.nanoTime() + removeTimeout.toNanos();
        KvmtoolException failure = null;
        for (String d : group.dirs()) {
            Path dir = Path.of(d);
            try {
                long sleep = 1;
                while (CgroupFs.rmdir(dir) == CgroupFs.Rmdir.BUSY) {
                    if (System.nanoTime() >= deadline) {
                        throw busy(dir);
                    }
                    Thread.sleep(sleep);
                    sleep = Math.min(50, sleep * 2);
                }
            } catch (KvmtoolException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KvmtoolException(ErrorCode.OPERATION_FAILED, "interrupted while removing cgroup " + dir, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private KvmtoolException busy(Path dir) {
        String procs;
        try {
            procs = java.util.Arrays.stream(CgroupFs.read(dir.resolve("cgroup.procs")).trim().split("\n"))
                    .filter(l -> !l.isBlank()).map(l -> proc.describe(Long.parseLong(l.trim())))
                    .collect(java.util.stream.Collectors.joining(", "));
        } catch (KvmtoolException | NumberFormatException e) {
            procs = "";
        }
        return new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot remove cgroup " + dir
                + ": Device or resource busy (" + (procs.isEmpty() ? "child groups or exiting processes remain"
                : "processes still in it: " + procs) + ")");
    }

    private record Target(Backend backend, Path dir) {
    }

    /**
     * The group's directory in the hierarchy that serves {@code controller}, or null when none does. Matched on
     * strings: this runs for every figure of every domain on every poll.
     */
    private Target target(CgroupRef group, String controller) {
        Hierarchy h = layout.byController().get(controller);
        if (h == null) {
            return null;
        }
        for (String d : group.dirs()) {
            if (holding(d) == h) {
                return new Target(h.backend(), Path.of(d));
            }
        }
        return null;
    }

    /** The hierarchy whose directory is the longest prefix of {@code dir}. */
    private Hierarchy holding(String dir) {
        for (Map.Entry<String, Hierarchy> e : prefixes) {
            if (dir.startsWith(e.getKey())) {
                return e.getValue();
            }
        }
        return null;
    }

    private Target require(CgroupRef group, String controller) {
        Target t = target(group, controller);
        if (t == null) {
            Hierarchy h = layout.byController().get(controller);
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, h == null
                    ? "cgroup controller '" + controller + "' is missing on this host (layout " + layout.layout() + ")"
                    : "cgroup " + group.dirs() + " has no directory in " + h.label() + " (controller '"
                    + controller + "')");
        }
        return t;
    }

    private Set<String> controllersIn(Hierarchy h) {
        Set<String> set = new TreeSet<>();
        layout.byController().forEach((c, x) -> {
            if (x == h && !c.equals("cpuacct")) {
                set.add(c);
            }
        });
        return set;
    }

    private CgroupRef ref(String name, List<String> dirs) {
        List<Hierarchy> used = layout.used();
        return new CgroupRef(name, dirs, used.size() == 1 && used.get(0).mount().v2());
    }

    private void requireUsable() {
        if (!layout.usable()) {
            throw new KvmtoolException(ErrorCode.NO_SUPPORT, "cgroups are not usable here: " + layout.reason());
        }
    }
}
