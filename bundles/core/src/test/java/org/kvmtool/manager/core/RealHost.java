package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.kvmtool.manager.api.DomainEvent;

/**
 * The driver on the real services and the lkvm stand-in: what Karaf wires, constructed by hand. The
 * services live as long as this object; drivers come and go on top of them, as the core bundle does
 * across a refresh.
 */
final class RealHost implements AutoCloseable {
    static final String STANDIN = RealServices.STANDIN;
    static final String GUEST = RealServices.GUEST;

    final Path root;
    final Services services;
    final List<DomainEvent> events = new CopyOnWriteArrayList<>();
    DriverSettings settings;
    KvmtoolDriver driver;

    RealHost(Path root) throws Exception {
        this.root = root;
        this.services = RealServices.create(Files.createDirectories(root.resolve("helper")));
        this.settings = new DriverSettings(DriverSettings.SESSION_URI, false, STANDIN, root.resolve("etc"),
                root.resolve("run"), root.resolve("log"), "kvmtool-test-" + ProcessHandle.current().pid(), "kvmtool",
                Duration.ofSeconds(5), 1 << 20, Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(1),
                Duration.ofSeconds(2));
    }

    /**
     * System mode as root, lkvm running as {@code user} (created if missing; null when it cannot be: the caller
     * skips). The run dir lies under /run: HOME dirs must be reachable by that user, and the socket path short.
     */
    static String systemModeUser(String user) throws Exception {
        if (HostEnvironment.effectiveUid(Path.of("/proc/self/status")) != 0) {
            return null;
        }
        if (Mounts.run("id", user) != 0
                && Mounts.run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user) != 0) {
            return null;
        }
        return user;
    }

    /** Switches to system mode with lkvm as {@code user}, the run dir at {@code run}, everything else kept. */
    void systemMode(String user, Path run) throws IOException {
        Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        settings = new DriverSettings(DriverSettings.SYSTEM_URI, true, settings.lkvmBinary(), root.resolve("etc"), run,
                root.resolve("log"), settings.cgroupParent(), user, settings.shutdownTimeout(), 1 << 20,
                settings.jobWaitTimeout(), settings.readyTimeout(), settings.destroyGrace(), settings.ipcTimeout());
    }

    /** Null when everything is there, else why the tests skip. */
    static String unavailable(Path tmp) {
        String missing = RealServices.missing();
        if (missing != null) {
            return missing;
        }
        try {
            Services s = RealServices.create(Files.createDirectories(tmp.resolve("probe-helper")));
            try {
                return RealServices.argvMissing(s);
            } finally {
                RealServices.close(s);
            }
        } catch (Exception e) {
            return "the real services cannot be built here: " + e;
        }
    }

    KvmtoolDriver activate() {
        return activate(settings);
    }

    KvmtoolDriver activate(DriverSettings with) {
        return activate(with, services);
    }

    /** A driver on other services (one of them replaced), as after a configuration change. */
    KvmtoolDriver activate(DriverSettings with, Services on) {
        HostEnvironment host = new HostEnvironment(0, root, Map.of(), Path.of("/etc"), Path.of("/dev/kvm"), Path.of("/proc"));
        driver = new KvmtoolDriver(with, host, on, null, Clock.systemUTC(), AtomicFile.REAL, "test");
        driver.addListener(events::add);
        return driver;
    }

    static String xml(String name, String... extra) {
        return "<domain type='kvmtool'><name>" + name + "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                + "<os><type>hvm</type><kernel>" + GUEST + "</kernel></os>" + String.join("", extra)
                + "<devices><console type='pty'><target type='serial'/></console><memballoon model='virtio'/></devices></domain>";
    }

    /** lkvm processes of this host's domains that no active domain owns, cgroups and sockets of inactive ones. */
    List<String> leftovers() throws IOException {
        List<String> out = new ArrayList<>();
        List<Long> owned = driver.list().stream().filter(d -> d.isActive()).map(d -> d.pid()).toList();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                    long pid = Long.parseLong(p.getFileName().toString());
                    if (cmd.startsWith(STANDIN + " run") && Files.readString(p.resolve("environ")).contains(root.toString())
                            && !owned.contains(pid)) {
                        out.add("process " + pid + ": " + cmd);
                    }
                } catch (IOException gone) {
                    // ended meanwhile
                }
            }
        }
        for (var d : driver.list()) {
            if (!d.isActive()) {
                services.cgroups().find(settings.cgroupParent(), d.name()).ifPresent(g -> out.add("cgroup " + g.dirs()));
                if (services.console().isOpen(d.name())) {
                    out.add("console of " + d.name() + " open");
                }
            }
        }
        Path home = settings.runDir().resolve("home");
        if (Files.isDirectory(home)) {
            List<String> live = driver.list().stream().filter(d -> d.isActive())
                    .map(d -> settings.homeDir(d.id()).toString()).toList();
            try (var s = Files.walk(home)) {
                s.filter(p -> p.toString().endsWith(".sock") && live.stream().noneMatch(l -> p.startsWith(l)))
                        .forEach(p -> out.add("socket " + p));
            }
        }
        return out;
    }

    @Override
    public void close() throws Exception {
        if (driver != null) {
            for (var d : driver.list()) {
                if (d.isActive()) {
                    try {
                        driver.destroy(d.name());
                    } catch (RuntimeException e) {
                        // best effort
                    }
                }
            }
            driver.deactivate();
        }
        RealServices.close(services);
        for (String dir : services.cgroups().support().controllers().values()) {
            Path parent = Path.of(dir.substring(dir.indexOf(':') + 1)).resolve(settings.cgroupParent());
            try {
                Files.deleteIfExists(parent);
            } catch (IOException busy) {
                // shared with another test still running: the next close removes it
            }
        }
    }
}
