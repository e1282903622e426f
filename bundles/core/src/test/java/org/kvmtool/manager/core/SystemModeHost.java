package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;

/**
 * A {@link RealHost} in system mode, as root: lkvm runs as the unprivileged {@link #USER} (made when missing),
 * with the stand-in or, when KVMTOOL_LKVM names one, the real lkvm. Its run dir is under /run, reachable by that
 * user (a root-only temporary directory would hide the HOMEs). {@link #close} removes it.
 */
final class SystemModeHost implements AutoCloseable {
    static final String USER = "kvmtool-itest";
    static final String REAL_LKVM = System.getenv("KVMTOOL_LKVM");

    final RealHost h;
    final Path run;

    /** Skips the test, saying why, when the real services, root or the user are not there. */
    SystemModeHost(Path tmp, String runName) throws Exception {
        String why = RealHost.unavailable(tmp);
        assumeTrue(why == null, why);
        assumeTrue(HostEnvironment.effectiveUid(Path.of("/proc/self/status")) == 0, "system mode needs root");
        if (Mounts.run("id", USER) != 0) {
            assumeTrue(Mounts.run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER) == 0,
                    "useradd " + USER + " failed");
        }
        h = new RealHost(tmp);
        run = Files.createDirectories(Path.of("/run/" + runName + "-" + ProcessHandle.current().pid()));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        h.settings = new DriverSettings(DriverSettings.SYSTEM_URI, true, real() ? REAL_LKVM : h.settings.lkvmBinary(),
                tmp.resolve("etc"), run, tmp.resolve("log"), h.settings.cgroupParent(), USER, h.settings.shutdownTimeout(),
                1 << 20, h.settings.jobWaitTimeout(), h.settings.readyTimeout(), h.settings.destroyGrace(), h.settings.ipcTimeout());
    }

    static boolean real() {
        return REAL_LKVM != null && !REAL_LKVM.isBlank();
    }

    static LkvmUser user() {
        return LkvmUser.resolve(USER, Path.of("/etc"), Path.of("/dev/kvm"));
    }

    @Override
    public void close() throws Exception {
        try {
            h.close();
        } finally {
            if (Files.exists(run)) {
                try (var w = Files.walk(run)) {
                    w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }
}
