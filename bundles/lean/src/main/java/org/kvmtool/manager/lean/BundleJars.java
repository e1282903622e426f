package org.kvmtool.manager.lean;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The bundles of the distribution: every jar in bundle/, in name order (stable logs, stable bundle ids). */
final class BundleJars {
    /** Declarative Services: started last, once the configuration is in place. */
    static final String SCR = "org.apache.felix.scr";

    private BundleJars() {
    }

    static List<Path> list(Path dir) throws IOException {
        List<Path> jars = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.jar")) {
            for (Path p : s) {
                jars.add(p.toAbsolutePath().normalize());
            }
        }
        jars.sort(null);
        return jars;
    }

    /** An install location that makes Felix read the jar where it is instead of copying it into its cache. */
    static String location(Path jar) {
        return "reference:" + jar.toUri();
    }
}
