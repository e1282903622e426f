package org.kvmtool.manager.lean;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Dictionary;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Waits until FileInstall has put every etc/*.cfg into Config Admin. Declarative Services starts only after
 * that, so no component ever runs with its built-in defaults first (the RPC endpoint would otherwise bind the
 * default socket before its configured one arrives).
 * <p>
 * Config Admin's API lives in a bundle's class loader, not on the launcher's class path: it is called
 * reflectively, through the interface as that bundle loads it.
 */
final class ConfigArrival {
    /** The property FileInstall sets on every configuration it made from a file: the file's URI. */
    static final String FILENAME = "felix.fileinstall.filename";
    private static final String CM = "org.osgi.service.cm.ConfigurationAdmin";

    private ConfigArrival() {
    }

    /** The cfg files of {@code etc} (FileInstall's filter is {@code .*\.cfg}). */
    static Set<Path> expected(Path etc) throws IOException {
        Set<Path> files = new TreeSet<>();
        if (!Files.isDirectory(etc)) {
            return files;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(etc, "*.cfg")) {
            for (Path p : s) {
                if (Files.isRegularFile(p)) {
                    files.add(p.toAbsolutePath().normalize());
                }
            }
        }
        return files;
    }

    /** The files among {@code expected} that no configuration names yet. */
    static Set<Path> missing(Set<Path> expected, Set<String> fileNameProperties) {
        Set<Path> seen = new HashSet<>();
        for (String f : fileNameProperties) {
            try {
                seen.add(Path.of(URI.create(f)).toAbsolutePath().normalize());
            } catch (IllegalArgumentException e) {
                seen.add(Path.of(f).toAbsolutePath().normalize());
            }
        }
        Set<Path> missing = new TreeSet<>(expected);
        missing.removeAll(seen);
        return missing;
    }

    /** Waits up to {@code timeout}; returns the files still missing then (empty: all arrived). */
    static Set<Path> await(BundleContext context, Set<Path> expected, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<Path> missing = expected;
        while (true) {
            missing = missing(expected, fileNames(context));
            if (missing.isEmpty() || System.nanoTime() > deadline) {
                return missing;
            }
            Thread.sleep(10);
        }
    }

    private static Set<String> fileNames(BundleContext context) {
        Set<String> names = new HashSet<>();
        ServiceReference<?> ref = context.getServiceReference(CM);
        if (ref == null) {
            return names;
        }
        Object cm = context.getService(ref);
        if (cm == null) {
            return names;
        }
        try {
            Class<?> cmType = ref.getBundle().loadClass(CM);
            Method list = cmType.getMethod("listConfigurations", String.class);
            Method properties = ref.getBundle().loadClass("org.osgi.service.cm.Configuration").getMethod("getProperties");
            Object[] configurations = (Object[]) list.invoke(cm, "(" + FILENAME + "=*)");
            if (configurations != null) {
                for (Object c : configurations) {
                    Dictionary<?, ?> props = (Dictionary<?, ?>) properties.invoke(c);
                    Object f = props == null ? null : props.get(FILENAME);
                    if (f != null) {
                        names.add(f.toString());
                    }
                }
            }
        } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
            throw new IllegalStateException("Config Admin's API is not what the launcher expects", e);
        } catch (InvocationTargetException e) {
            // a configuration deleted while we listed it, or Config Admin stopping: try again
        } finally {
            context.ungetService(ref);
        }
        return names;
    }
}
