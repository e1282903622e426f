package org.kvmtool.manager.lean;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the lean runtime finds things, after Karaf's split: the installation ({@code home}: lib/, bundle/)
 * may be read-only and shared; the instance ({@code base}: etc/, data/, deploy/) is one manager's own.
 */
public record Layout(Path home, Path base) {
    public Layout {
        Objects.requireNonNull(home, "home");
        Objects.requireNonNull(base, "base");
        home = home.toAbsolutePath().normalize();
        base = base.toAbsolutePath().normalize();
    }

    public Path bundles() {
        return home.resolve("bundle");
    }

    public Path etc() {
        return base.resolve("etc");
    }

    public Path deploy() {
        return base.resolve("deploy");
    }

    public Path data() {
        return base.resolve("data");
    }

    /** The framework's storage: rebuilt at every launch, the bundles are installed again by reference. */
    public Path frameworkStorage() {
        return data().resolve("cache");
    }
}
