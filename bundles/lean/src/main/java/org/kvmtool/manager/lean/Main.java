package org.kvmtool.manager.lean;

import java.lang.management.ManagementFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code Main --home DIR [--base DIR]}: runs kvmtool-manager on an embedded Felix framework until the JVM is
 * told to end (SIGTERM, SIGINT), then stops the framework cleanly. Guests keep running: the driver finds them
 * again at the next start. bin/kvmtool-manager is the way to call it (it adds the Jolokia agent and JAAS).
 */
public final class Main {
    private static final Logger LOG = Logger.getLogger(Main.class.getName());
    private static final Duration CONFIG_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private Main() {
    }

    public static void main(String[] args) {
        Layout layout;
        try {
            layout = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("kvmtool-manager: " + e.getMessage());
            System.err.println("usage: Main --home DIR [--base DIR]");
            System.exit(2);
            return;
        }
        try {
            FirstAdmin.ensure(layout.etc(), new SecureRandom()).ifPresent(f -> LOG.warning("created user 'admin' with a "
                    + "random password; it is in " + f + " (readable by its owner only). Set your own in "
                    + layout.etc().resolve(FirstAdmin.USERS) + " and delete that file."));
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "could not check or create the admin user: " + e.getMessage(), e);
        }
        LeanRuntime runtime;
        try {
            runtime = LeanRuntime.start(layout, ManagementFactory.getPlatformMBeanServer(), CONFIG_TIMEOUT);
        } catch (Exception e) {
            LOG.log(Level.SEVERE, "kvmtool-manager did not start: " + e.getMessage(), e);
            System.exit(1);
            return;
        }
        AtomicBoolean shuttingDown = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            shuttingDown.set(true);
            runtime.stop(STOP_TIMEOUT);
        }, "kvmtool-manager-shutdown"));
        try {
            runtime.awaitStop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!shuttingDown.get()) {
            // The framework stopped by itself (not through the hook): end the JVM, the agent's threads with it.
            System.exit(0);
        }
    }

    static Layout parse(String[] args) {
        Path home = null;
        Path base = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if ((a.equals("--home") || a.equals("--base")) && i + 1 < args.length) {
                Path p = Path.of(args[++i]);
                if (a.equals("--home")) {
                    home = p;
                } else {
                    base = p;
                }
            } else {
                throw new IllegalArgumentException("unknown argument '" + a + "'");
            }
        }
        if (home == null) {
            throw new IllegalArgumentException("--home is required");
        }
        return new Layout(home, base != null ? base : home);
    }
}
