package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

class SettingsTest {
    record Cfg(String uri, String lkvm_binary, String config_dir, String run_dir, String log_dir, String cgroup_parent,
               String lkvm_user, int shutdown_timeout_seconds, long console_log_max_bytes, String hugetlbfs_mount)
            implements ManagerConfig {
        static Cfg defaults() {
            return new Cfg("", "", "", "", "", "machine", "kvmtool", 30, 1 << 20, "");
        }

        Cfg uri(String u) {
            return new Cfg(u, lkvm_binary, config_dir, run_dir, log_dir, cgroup_parent, lkvm_user, shutdown_timeout_seconds,
                    console_log_max_bytes, hugetlbfs_mount);
        }

        Cfg hugetlbfs(String mount) {
            return new Cfg(uri, lkvm_binary, config_dir, run_dir, log_dir, cgroup_parent, lkvm_user, shutdown_timeout_seconds,
                    console_log_max_bytes, mount);
        }

        @Override
        public boolean dynamic__ownership() {
            return true; // the security driver's; DriverSettings does not read it
        }

        @Override
        public Class<? extends Annotation> annotationType() {
            return ManagerConfig.class;
        }
    }

    private static HostEnvironment host(long euid, Map<String, String> env) {
        return new HostEnvironment(euid, Path.of("/home/u"), env, Path.of("/etc"), Path.of("/dev/kvm"), Path.of("/proc"));
    }

    @Test
    void rootDefaultsToSystemModeWithLibvirtsDirectories() {
        DriverSettings s = DriverSettings.resolve(Cfg.defaults(), host(0, Map.of()));
        assertEquals("kvmtool:///system", s.uri());
        assertEquals(true, s.systemMode());
        assertEquals(Path.of("/etc/kvmtool-manager"), s.configDir());
        assertEquals(Path.of("/run/kvmtool-manager"), s.runDir());
        assertEquals(Path.of("/var/log/kvmtool-manager"), s.logDir());
        assertEquals(Path.of("/etc/kvmtool-manager/autostart"), s.autostartDir());
        assertEquals(30, s.shutdownTimeout().toSeconds());
        // the longest name still fits: /run/kvmtool-manager/home/9999/.lkvm/ + 64 + .sock
        String sock = s.homeDir(9999) + "/.lkvm/" + "n".repeat(64) + ".sock";
        assertEquals(true, sock.length() <= 107, sock.length() + " bytes");
    }

    @Test
    void aHugetlbfsMountIsAnAbsolutePathOrUnset() {
        assertEquals(null, DriverSettings.resolve(Cfg.defaults(), host(0, Map.of())).hugetlbfsMount());
        assertEquals(Path.of("/mnt/huge1G"), DriverSettings.resolve(Cfg.defaults().hugetlbfs(" /mnt/huge1G "), host(0, Map.of()))
                .hugetlbfsMount());
        KvmtoolException e = assertThrows(KvmtoolException.class,
                () -> DriverSettings.resolve(Cfg.defaults().hugetlbfs("hugepages"), host(0, Map.of())));
        assertEquals(ErrorCode.INVALID_ARG, e.code());
    }

    @Test
    void aUserDefaultsToSessionModeUnderXdg() {
        DriverSettings s = DriverSettings.resolve(Cfg.defaults(), host(1000, Map.of("XDG_CONFIG_HOME", "/c",
                "XDG_RUNTIME_DIR", "/run/user/1000", "XDG_STATE_HOME", "/s")));
        assertEquals("kvmtool:///session", s.uri());
        assertEquals(Path.of("/c/kvmtool-manager"), s.configDir());
        assertEquals(Path.of("/run/user/1000/kvmtool-manager"), s.runDir());
        assertEquals(Path.of("/s/kvmtool-manager/log"), s.logDir());
        DriverSettings bare = DriverSettings.resolve(Cfg.defaults(), host(1000, Map.of()));
        assertEquals(Path.of("/home/u/.config/kvmtool-manager"), bare.configDir());
        assertEquals(Path.of("/home/u/.cache/kvmtool-manager/run"), bare.runDir());
        assertEquals(Path.of("/home/u/.local/state/kvmtool-manager/log"), bare.logDir());
        // root may ask for session mode explicitly
        assertEquals(false, DriverSettings.resolve(Cfg.defaults().uri("kvmtool:///session"), host(0, Map.of())).systemMode());
    }

    @Test
    void everyDirectoryIsConfigurable() {
        Cfg c = new Cfg("kvmtool:///session", "/opt/lkvm", "/a", "/b", "/c", "kvm", "x", 5, 4096, "");
        DriverSettings s = DriverSettings.resolve(c, host(1000, Map.of()));
        assertEquals(List.of(Path.of("/a"), Path.of("/b"), Path.of("/c")), List.of(s.configDir(), s.runDir(), s.logDir()));
        assertEquals("/opt/lkvm", s.lkvmBinary());
        assertEquals("kvm", s.cgroupParent());
    }

    @Test
    void badSettingsAreRefusedWithAReason() {
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> DriverSettings.resolve(Cfg.defaults().uri("qemu:///system"), host(0, Map.of())));
        assertEquals(ErrorCode.INVALID_ARG, e.code());
        e = assertThrows(KvmtoolException.class, () -> DriverSettings.resolve(Cfg.defaults().uri("kvmtool:///system"), host(1000, Map.of())));
        assertEquals(ErrorCode.ACCESS_DENIED, e.code());
        assertThrows(KvmtoolException.class, () -> DriverSettings.resolve(
                new Cfg("", "", "relative", "", "", "", "", 30, 1 << 20, ""), host(1000, Map.of())));
    }

    @Test
    void lkvmUserComesFromPasswdWithTheGroupOfDevKvm(@TempDir Path etc) throws Exception {
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/bash\nkvmtool:x:990:985::/nonexistent:/usr/sbin/nologin\n");
        Path kvm = Files.createFile(etc.resolve("kvm"));
        Files.setAttribute(kvm, "unix:gid", 4242);
        LkvmUser u = LkvmUser.resolve("kvmtool", etc, kvm);
        assertEquals(new LkvmUser("kvmtool", 990, 985, List.of(4242)), u);
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> LkvmUser.resolve("nobody-here", etc, kvm));
        assertEquals("lkvm.user 'nobody-here' does not exist (create it, e.g. useradd --system nobody-here)", e.getMessage());
    }

    @Test
    void effectiveUidIsTheSecondUidField(@TempDir Path dir) throws Exception {
        Path status = dir.resolve("status");
        Files.writeString(status, "Name:\tjava\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
        assertEquals(0, HostEnvironment.effectiveUid(status));
    }
}
