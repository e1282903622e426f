package org.kvmtool.manager.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.CgroupService;

/**
 * Session mode for real: the probe runs as uid 65534 (nobody) through setpriv, so the kernel itself decides
 * what it may write. On this machine's hierarchy it may write nothing; in a fixture shaped like a systemd
 * user session, the subtree chown'ed to it (as systemd delegates user@UID.service) is found and used.
 */
class SessionModeTest {
    private static final String NOBODY = "65534";
    @TempDir
    Path tmp;
    private Path classpath;

    @BeforeEach
    void canDropPrivileges() throws Exception {
        assumeTrue(RealProcesses.root(), "needs root to run a probe as another user");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv (util-linux)");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        // the probe's classes, copied where uid 65534 may read them (the build tree may be private)
        classpath = tmp.resolve("cp");
        for (Class<?> c : List.of(SessionProbe.class, CgroupServiceImpl.class, CgroupService.class)) {
            copy(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()), classpath);
        }
    }

    @Test
    void onThisHostWithoutPermissionItSaysWhyAndFallsBackToProc() throws Exception {
        String parent = RealProcesses.uniqueParent();
        Map<String, String> out = probe("real", parent);
        assertEquals("false", out.get("usable"), out.toString());
        assertTrue(out.get("reason").contains(": Permission denied (not root, and no delegated subtree"), out.toString());
        assertTrue(out.get("reason").endsWith("; per-process figures from /proc are used instead"), out.toString());
        assertTrue(out.get("create").startsWith("NO_SUPPORT cgroups are not usable here: cannot create groups in "),
                out.toString());
        String[] proc = out.get("proc").split(" ");
        assertEquals("PROC", proc[0]);
        assertTrue(Long.parseLong(proc[1]) > 0 && Long.parseLong(proc[2]) > 0, "real figures of the probe: " + out);
        assertTrue(out.get("mkdir").startsWith("cannot create cgroup ") && out.get("mkdir").endsWith(parent
                + ": Permission denied"), out.toString());
        System.out.println("session mode on this host: " + out);
    }

    @Test
    void aDelegatedUserSubtreeIsUsed() throws Exception {
        Path base = sessionFixture();
        chown(base);
        Map<String, String> out = probe(tmp.toString(), "machine");
        System.out.println("session with delegation: " + out);
        assertEquals("true", out.get("usable"), out.toString());
        assertEquals(base.toString(), out.get("base.v2"));
        assertEquals("using the delegated subtree " + base, out.get("reason"));
        Path group = base.resolve("machine.slice/machine-vm1.kvmtool.scope");
        assertEquals(group.toString(), out.get("create"));
        assertEquals(NOBODY, Files.getAttribute(group, "unix:uid").toString(), "made by the unprivileged probe");
        assertEquals("+cpu +memory", Files.readString(base.resolve("machine.slice/cgroup.subtree_control")));
        assertTrue(out.get("mkdir").endsWith("user.slice/machine: Permission denied"), out.toString());
    }

    @Test
    void withoutDelegationTheReasonNamesTheHierarchyAndTheOwnGroup() throws Exception {
        Path base = sessionFixture();
        Map<String, String> out = probe(tmp.toString(), "machine");
        Path root = tmp.resolve("sys/fs/cgroup");
        assertEquals("false", out.get("usable"));
        assertEquals("cannot create groups in " + root + ": Permission denied (not root, and no delegated subtree above "
                + base.resolve("app.slice/app-kvmtool.scope") + "); per-process figures from /proc are used instead",
                out.get("reason"));
        assertFalse(Files.exists(base.resolve("machine.slice/machine-vm1.kvmtool.scope")));
    }

    /** A systemd user session: user@65534.service delegated with cpu and memory, the manager in an app scope. */
    private Path sessionFixture() {
        FixtureHost host = new FixtureHost(tmp, "session", "cpuset cpu io memory pids", true);
        FixtureHost.file(host.dir("cgroup.subtree_control"), "cpuset cpu io memory pids\n");
        FixtureHost.v2Group(host.dir("user.slice"), "cpu io memory pids", true);
        FixtureHost.v2Group(host.dir("user.slice/user-65534.slice"), "cpu io memory pids", true);
        Path base = host.dir("user.slice/user-65534.slice/user@65534.service");
        FixtureHost.v2Group(base, "cpu memory pids", true);
        FixtureHost.file(base.resolve("cgroup.subtree_control"), "cpu memory pids\n");
        FixtureHost.v2Group(base.resolve("init.scope"), "", true);
        FixtureHost.v2Group(base.resolve("app.slice"), "cpu memory pids", true);
        FixtureHost.v2Group(base.resolve("app.slice/app-kvmtool.scope"), "", true);
        FixtureHost.file(base.resolve("app.slice/app-kvmtool.scope/cgroup.procs"), "4242\n");
        FixtureHost.v2Group(base.resolve("machine.slice"), "cpu memory pids", true);
        return base;
    }

    private static void chown(Path tree) throws IOException {
        UserPrincipalLookupService users = tree.getFileSystem().getUserPrincipalLookupService();
        try (var walk = Files.walk(tree)) {
            for (Path p : walk.toList()) {
                Files.setOwner(p, users.lookupPrincipalByName(NOBODY));
            }
        }
    }

    private Map<String, String> probe(String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> argv = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups", java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classpath.toString(),
                SessionProbe.class.getName()));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).directory(tmp.toFile()).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), output);
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return values;
    }

    private static void copy(Path from, Path to) throws IOException {
        if (Files.isDirectory(from)) {
            try (var walk = Files.walk(from)) {
                for (Path p : walk.toList()) {
                    Path target = to.resolve(from.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(p, target);
                    }
                }
            }
        } else {
            // a jar: unpack it, so one directory holds the whole classpath
            Files.createDirectories(to);
            try (var jar = new java.util.jar.JarFile(from.toFile())) {
                for (var e : java.util.Collections.list(jar.entries())) {
                    Path target = to.resolve(e.getName());
                    if (e.isDirectory()) {
                        Files.createDirectories(target);
                    } else if (!Files.exists(target)) {
                        Files.createDirectories(target.getParent());
                        try (var in = jar.getInputStream(e)) {
                            Files.copy(in, target);
                        }
                    }
                }
            }
        }
    }
}
