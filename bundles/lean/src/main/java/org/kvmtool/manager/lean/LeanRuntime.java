package org.kvmtool.manager.lean;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.MBeanServer;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * The embedded framework with the distribution's bundles. Start order: everything but Declarative
 * Services; then the configuration (etc/*.cfg through FileInstall into Config Admin); then Declarative
 * Services, which activates the components with their configuration already there.
 */
public final class LeanRuntime {
    private static final Logger LOG = Logger.getLogger(LeanRuntime.class.getName());

    private static final Duration REPORT_DELAY = Duration.ofSeconds(5);

    private final Framework framework;

    private LeanRuntime(Framework framework) {
        this.framework = framework;
    }

    /**
     * Boots the framework. {@code mbeanServer} is registered as the {@code javax.management.MBeanServer}
     * service before any bundle starts, so components that take it (jmx) see it at their first activation.
     */
    public static LeanRuntime start(Layout layout, MBeanServer mbeanServer, Duration configTimeout)
            throws IOException, BundleException, InterruptedException {
        Phases phases = new Phases();
        Files.createDirectories(layout.data());
        Files.createDirectories(layout.deploy());
        List<Path> jars = BundleJars.list(layout.bundles());
        Set<Path> configs = ConfigArrival.expected(layout.etc());

        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, LeanRuntime.class.getClassLoader())
                .findFirst().orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"));
        Framework framework = factory.newFramework(FrameworkProperties.of(layout, FrameworkProperties.overrides(layout.etc())));
        framework.init();
        phases.mark("framework");
        LeanRuntime runtime = new LeanRuntime(framework);
        try {
            BundleContext system = framework.getBundleContext();
            Hashtable<String, Object> props = new Hashtable<>();
            props.put(Constants.SERVICE_DESCRIPTION, "the platform MBeanServer");
            system.registerService(MBeanServer.class, mbeanServer, props);
            List<Bundle> bundles = install(system, jars);
            framework.start();
            phases.mark("install");
            Bundle scr = startAllBut(bundles, BundleJars.SCR)
                    .orElseThrow(() -> new IllegalStateException("no " + BundleJars.SCR + " bundle in " + layout.bundles()));
            phases.mark("start");
            Set<Path> missing = ConfigArrival.await(system, configs, configTimeout);
            if (!missing.isEmpty()) {
                LOG.warning("configuration not in Config Admin after " + configTimeout.toMillis() + " ms, starting anyway: "
                        + missing);
            }
            phases.mark("configuration");
            scr.start();
            phases.mark("components");
            reportInactive(bundles);
            LOG.info(() -> "kvmtool-manager (lean) started " + bundles.size() + " bundles in " + phases + ", "
                    + sinceJvmStart() + " ms after the JVM started, from " + layout.home() + ", instance " + layout.base());
            runtime.reportComponentsLater(system);
            return runtime;
        } catch (BundleException | InterruptedException | RuntimeException e) {
            runtime.stop(Duration.ofSeconds(10));
            throw e;
        }
    }

    private static List<Bundle> install(BundleContext system, List<Path> jars) throws BundleException {
        List<Bundle> bundles = new ArrayList<>();
        for (Path jar : jars) {
            bundles.add(system.installBundle(BundleJars.location(jar)));
        }
        return bundles;
    }

    /** Starts every bundle but the one named {@code last}, and returns that one. */
    private static Optional<Bundle> startAllBut(List<Bundle> bundles, String last) {
        Bundle held = null;
        for (Bundle b : bundles) {
            if (last.equals(b.getSymbolicName())) {
                held = b;
            } else {
                startQuietly(b);
            }
        }
        return Optional.ofNullable(held);
    }

    /** Milliseconds per start phase, for the start line. */
    private static final class Phases {
        private final long t0 = System.nanoTime();
        private long last = t0;
        private final StringBuilder text = new StringBuilder();

        void mark(String phase) {
            long now = System.nanoTime();
            text.append(text.length() == 0 ? "" : ", ").append(phase).append(' ').append((now - last) / 1_000_000);
            last = now;
        }

        @Override
        public String toString() {
            return (last - t0) / 1_000_000 + " ms (" + text + ")";
        }
    }

    /**
     * A few seconds after the start, names every component that is not running and why (a missing service,
     * a missing configuration, an activation failure): without a shell, the log is where an operator looks.
     */
    private void reportComponentsLater(BundleContext system) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(REPORT_DELAY.toMillis());
                if ((framework.getState() & Bundle.ACTIVE) == 0) {
                    return;
                }
                for (String problem : ComponentReport.problems(system)) {
                    LOG.warning("component " + problem);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.log(Level.FINE, "no component report", e);
            }
        }, "kvmtool-lean-component-report");
        t.setDaemon(true);
        t.start();
    }

    /** Stops every bundle and the framework. The driver ends no guest when it stops: they keep running. */
    public void stop(Duration timeout) {
        try {
            framework.stop();
            FrameworkEvent event = framework.waitForStop(timeout.toMillis());
            if (event.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                LOG.warning("the framework did not stop within " + timeout.toMillis() + " ms");
            }
        } catch (BundleException e) {
            LOG.log(Level.WARNING, "stopping the framework", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Blocks until the framework has stopped, for whatever reason. */
    public void awaitStop() throws InterruptedException {
        framework.waitForStop(0);
    }

    private static long sinceJvmStart() {
        return System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
    }

    private static void startQuietly(Bundle b) {
        if (b.getHeaders().get(Constants.FRAGMENT_HOST) != null) {
            return;
        }
        try {
            b.start();
        } catch (BundleException e) {
            // one broken bundle must not keep the others down; it is named in the log
            LOG.log(Level.SEVERE, "bundle " + b.getSymbolicName() + " " + b.getVersion() + " did not start: " + e.getMessage(), e);
        }
    }

    private static void reportInactive(List<Bundle> bundles) {
        for (Bundle b : bundles) {
            boolean fragment = b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
            if (!fragment && b.getState() != Bundle.ACTIVE) {
                LOG.severe("bundle " + b.getSymbolicName() + " " + b.getVersion() + " is not active (state " + b.getState() + ")");
            }
        }
    }
}
