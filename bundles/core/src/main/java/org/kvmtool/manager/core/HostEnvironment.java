package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * The host facts the driver depends on, read once in {@link #current()}: the one place of the bundle that
 * reads the process environment. Tests build their own with other roots.
 *
 * @param euid     effective uid of the manager
 * @param userHome the manager's home directory
 * @param env      the environment variables (XDG_*)
 * @param etcDir   where passwd and group live (for lkvm.user)
 * @param devKvm   /dev/kvm, whose group lkvm needs in system mode
 * @param procDir  /proc, for the vCPU thread ids
 */
public record HostEnvironment(long euid, Path userHome, Map<String, String> env, Path etcDir, Path devKvm,
                              Path procDir) {
    public HostEnvironment {
        Objects.requireNonNull(userHome, "userHome");
        env = Map.copyOf(env);
        Objects.requireNonNull(etcDir, "etcDir");
        Objects.requireNonNull(devKvm, "devKvm");
        Objects.requireNonNull(procDir, "procDir");
    }

    /** The real host. */
    public static HostEnvironment current() {
        return new HostEnvironment(effectiveUid(Path.of("/proc/self/status")), Path.of(System.getProperty("user.home")),
                System.getenv(), Path.of("/etc"), Path.of("/dev/kvm"), Path.of("/proc"));
    }

    /** The second field of the "Uid:" line of /proc/self/status (real, effective, saved, fs). */
    static long effectiveUid(Path procSelfStatus) {
        try {
            for (String line : Files.readAllLines(procSelfStatus)) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through: treat as unprivileged, the safe side
        }
        return -1;
    }

    public String getenv(String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v;
    }
}
