package org.kvmtool.manager.core;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * The configuration with every default of the mode resolved: a pure function of {@link ManagerConfig} and
 * {@link HostEnvironment}. The timeouts that are not user settings are fields so tests can shorten them.
 * {@code hugetlbfsMount} is null when unset (the mount is then looked up at each start that needs it).
 */
public record DriverSettings(String uri, boolean systemMode, String lkvmBinary, Path configDir, Path runDir,
                             Path logDir, String cgroupParent, String lkvmUser, Duration shutdownTimeout,
                             long consoleLogMaxBytes, Duration jobWaitTimeout, Duration readyTimeout,
                             Duration destroyGrace, Duration ipcTimeout, Path hugetlbfsMount) {
    public static final String SYSTEM_URI = "kvmtool:///system";
    public static final String SESSION_URI = "kvmtool:///session";
    static final String DIR_NAME = "kvmtool-manager";

    public DriverSettings {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(configDir, "configDir");
        Objects.requireNonNull(runDir, "runDir");
        Objects.requireNonNull(logDir, "logDir");
    }

    /** Settings without a configured hugetlbfs mount. */
    public DriverSettings(String uri, boolean systemMode, String lkvmBinary, Path configDir, Path runDir, Path logDir,
                          String cgroupParent, String lkvmUser, Duration shutdownTimeout, long consoleLogMaxBytes,
                          Duration jobWaitTimeout, Duration readyTimeout, Duration destroyGrace, Duration ipcTimeout) {
        this(uri, systemMode, lkvmBinary, configDir, runDir, logDir, cgroupParent, lkvmUser, shutdownTimeout,
                consoleLogMaxBytes, jobWaitTimeout, readyTimeout, destroyGrace, ipcTimeout, null);
    }

    public static DriverSettings resolve(ManagerConfig c, HostEnvironment host) {
        String uri = blank(c.uri()) ? (host.euid() == 0 ? SYSTEM_URI : SESSION_URI) : c.uri().trim();
        boolean system;
        if (uri.equals(SYSTEM_URI)) {
            system = true;
        } else if (uri.equals(SESSION_URI)) {
            system = false;
        } else {
            throw new KvmtoolException(ErrorCode.INVALID_ARG,
                    "uri '" + uri + "' is neither " + SYSTEM_URI + " nor " + SESSION_URI);
        }
        if (system && host.euid() != 0) {
            throw new KvmtoolException(ErrorCode.ACCESS_DENIED, SYSTEM_URI + " needs the manager to run as root");
        }
        Path config = dir(c.config_dir(), system ? Path.of("/etc", DIR_NAME) : sessionConfig(host));
        Path run = dir(c.run_dir(), system ? Path.of("/run", DIR_NAME) : sessionRun(host));
        Path log = dir(c.log_dir(), system ? Path.of("/var/log", DIR_NAME) : sessionLog(host));
        if (c.shutdown_timeout_seconds() <= 0) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "shutdown.timeout.seconds must be positive");
        }
        if (c.console_log_max_bytes() < 4096) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "console.log.max.bytes must be at least 4096");
        }
        String parent = blank(c.cgroup_parent()) ? "machine" : c.cgroup_parent().trim();
        String user = blank(c.lkvm_user()) ? "kvmtool" : c.lkvm_user().trim();
        Path hugetlbfs = blank(c.hugetlbfs_mount()) ? null : dir(c.hugetlbfs_mount(), null);
        return new DriverSettings(uri, system, blank(c.lkvm_binary()) ? null : c.lkvm_binary().trim(), config, run,
                log, parent, user, Duration.ofSeconds(c.shutdown_timeout_seconds()), c.console_log_max_bytes(),
                Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofSeconds(5), hugetlbfs);
    }

    /** A copy with other internal timeouts (tests). */
    public DriverSettings withTimeouts(Duration jobWait, Duration ready, Duration grace, Duration shutdown) {
        return new DriverSettings(uri, systemMode, lkvmBinary, configDir, runDir, logDir, cgroupParent, lkvmUser,
                shutdown, consoleLogMaxBytes, jobWait, ready, grace, ipcTimeout, hugetlbfsMount);
    }

    /** A copy with another hugetlbfs (tests). */
    public DriverSettings withHugetlbfsMount(Path mount) {
        return new DriverSettings(uri, systemMode, lkvmBinary, configDir, runDir, logDir, cgroupParent, lkvmUser,
                shutdownTimeout, consoleLogMaxBytes, jobWaitTimeout, readyTimeout, destroyGrace, ipcTimeout, mount);
    }

    public Path statusDir() {
        return runDir;
    }

    /** Records of the files lent to lkvm's user, one per domain (bundles/security). */
    public Path lentDir() {
        return runDir.resolve("lent");
    }

    public Path autostartDir() {
        return configDir.resolve("autostart");
    }

    /** A domain's HOME, named by its id so the socket path HOME/.lkvm/NAME.sock stays short. */
    public Path homeDir(int id) {
        return runDir.resolve("home").resolve(Integer.toString(id));
    }

    public Path consoleLog(String name) {
        return logDir.resolve(name + ".log");
    }

    private static Path sessionConfig(HostEnvironment h) {
        String xdg = h.getenv("XDG_CONFIG_HOME");
        return (xdg != null ? Path.of(xdg) : h.userHome().resolve(".config")).resolve(DIR_NAME);
    }

    private static Path sessionRun(HostEnvironment h) {
        String xdg = h.getenv("XDG_RUNTIME_DIR");
        return xdg != null ? Path.of(xdg, DIR_NAME) : h.userHome().resolve(".cache").resolve(DIR_NAME).resolve("run");
    }

    private static Path sessionLog(HostEnvironment h) {
        String xdg = h.getenv("XDG_STATE_HOME");
        return (xdg != null ? Path.of(xdg) : h.userHome().resolve(".local").resolve("state"))
                .resolve(DIR_NAME).resolve("log");
    }

    private static Path dir(String configured, Path dflt) {
        if (blank(configured)) {
            return dflt;
        }
        Path p = Path.of(configured.trim());
        if (!p.isAbsolute()) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "directory '" + configured + "' is not absolute");
        }
        return p;
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
