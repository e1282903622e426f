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
import java.util.function.BooleanSupplier;

import org.kvmtool.manager.api.DomainEvent;
import org.kvmtool.manager.core.fakes.FakeCgroups;
import org.kvmtool.manager.core.fakes.FakeCodec;
import org.kvmtool.manager.core.fakes.FakeConsole;
import org.kvmtool.manager.core.fakes.FakeControl;
import org.kvmtool.manager.core.fakes.FakeExitWatcher;
import org.kvmtool.manager.core.fakes.FakeHost;
import org.kvmtool.manager.core.fakes.FakeHypervisor;
import org.kvmtool.manager.core.fakes.FakeNetwork;
import org.kvmtool.manager.core.fakes.FakeSecurity;
import org.kvmtool.manager.core.fakes.FakeSpawner;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;

/** A driver on the fake host, with its directories under a temporary root. */
final class Fixture implements AutoCloseable {
    final Path root;
    final FakeHost host = new FakeHost();
    final FakeConsole console = new FakeConsole(host);
    final FakeSpawner spawner = new FakeSpawner(host, console);
    final FakeControl control = new FakeControl(host);
    final FakeCgroups cgroups = new FakeCgroups(host);
    final FakeHypervisor hypervisor = new FakeHypervisor();
    final FakeSecurity security = new FakeSecurity();
    final FakeNetwork network = new FakeNetwork();
    final Services services = new Services(new FakeCodec(), hypervisor, spawner, new FakeExitWatcher(host), control,
            cgroups, console, security, network);
    final List<DomainEvent> events = new CopyOnWriteArrayList<>();
    final List<Event> adminEvents = new CopyOnWriteArrayList<>();
    final EventAdmin eventAdmin = new EventAdmin() {
        @Override
        public void postEvent(Event e) {
            adminEvents.add(e);
        }

        @Override
        public void sendEvent(Event e) {
            adminEvents.add(e);
        }
    };
    DriverSettings settings;
    AtomicFile.Io io = AtomicFile.REAL;
    KvmtoolDriver driver;

    Fixture(Path root) {
        this.root = root;
        this.settings = new DriverSettings(DriverSettings.SESSION_URI, false, null, root.resolve("etc"),
                root.resolve("run"), root.resolve("log"), "machine", "kvmtool", Duration.ofSeconds(2), 1 << 20,
                Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofMillis(500), Duration.ofSeconds(1));
    }

    HostEnvironment hostEnv() {
        return new HostEnvironment(1000, root.resolve("home"), Map.of(), root.resolve("hostetc"),
                root.resolve("dev-kvm"), root.resolve("proc"));
    }

    /** A new driver instance, as DS makes at every activation. */
    KvmtoolDriver activate() {
        driver = new KvmtoolDriver(settings, hostEnv(), services, eventAdmin, Clock.systemUTC(), io, "0.1.0");
        driver.addListener(events::add);
        return driver;
    }

    List<String> leftovers() throws IOException {
        List<String> out = new ArrayList<>();
        host.alive().forEach(p -> out.add("live lkvm " + p.pid() + " for " + p.name));
        cgroups.groups.keySet().forEach(g -> out.add("cgroup " + g));
        // what a run was lent is given back by the end of every run
        security.lent.keySet().stream().filter(n -> driver == null || driver.lookup(n).map(i -> !i.isActive()).orElse(true))
                .forEach(n -> out.add("files lent to " + n));
        console.openSlaves.keySet().forEach(c -> out.add("open console " + c));
        network.taps.forEach((tap, owner) -> out.add("tap " + tap + " of " + owner));
        network.cids.forEach((owner, cid) -> out.add("vsock CID " + cid + " of " + owner));
        if (console.openMasters() > 0) {
            out.add(console.openMasters() + " pty masters open in the JVM");
        }
        try (var s = Files.walk(settings.runDir())) {
            s.filter(Files::isRegularFile).forEach(p -> out.add("file " + settings.runDir().relativize(p)));
        }
        Path homes = settings.runDir().resolve("home");
        if (Files.isDirectory(homes)) {
            try (var s = Files.list(homes)) {
                s.forEach(p -> out.add("HOME " + p.getFileName()));
            }
        }
        return out;
    }

    /**
     * Destroys every active domain once; a refusal that {@code endedMeanwhile} accepts (the domain ended or went
     * between the list and the destroy) is skipped, any other fails the test. Called in an {@link #await} loop
     * where an end still being handled may restart a domain (on_crash, on_reboot = restart).
     */
    static void destroyActive(org.kvmtool.manager.api.DomainDriver driver,
                              java.util.function.Predicate<org.kvmtool.manager.api.KvmtoolException> endedMeanwhile) {
        for (var i : driver.list()) {
            if (i.isActive()) {
                try {
                    driver.destroy(i.name());
                } catch (org.kvmtool.manager.api.KvmtoolException e) {
                    if (!endedMeanwhile.test(e)) {
                        throw new AssertionError("destroy of " + i.name() + " refused: " + e.getMessage(), e);
                    }
                }
            }
        }
    }

    static void await(String what, BooleanSupplier cond) {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos(); // generous: CI machines are shared
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Override
    public void close() {
        if (driver != null) {
            driver.deactivate();
        }
        host.watcherThread.shutdownNow();
    }
}
