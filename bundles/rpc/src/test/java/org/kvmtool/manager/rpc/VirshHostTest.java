package org.kvmtool.manager.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.testing.FakeDomainDriver;
import org.kvmtool.manager.host.HostServiceImpl;

/**
 * virsh's host commands through this server over the real host facts: every reply decodes in the stock client.
 * (The figures against /proc and sysfs: HostProceduresIT in itests/karaf.)
 */
class VirshHostTest {
    @TempDir
    Path dir;
    private RpcServer server;
    private Path socket;

    @BeforeEach
    void start() throws IOException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/virsh")), "virsh is not installed (apt-get install libvirt-clients)");
        socket = dir.resolve("sock");
        server = new RpcServer(new FakeDomainDriver(), new HostServiceImpl(), socket, null);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private String virsh(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("virsh", "-c", "kvmtool:///system?socket=" + socket));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", args) + ": " + out);
        return out;
    }

    private static void check(String out, String expected) {
        assertTrue(out.contains(expected), out);
    }

    @Test
    void everyHostCommandSucceeds() throws Exception {
        check(virsh("nodeinfo"), "CPU model:");
        check(virsh("nodecpumap"), "CPUs present:");
        check(virsh("freecell", "--all"), "Total:");
        check(virsh("freecell"), "Total:");
        check(virsh("nodememstats"), "total  :");
        check(virsh("nodememstats", "0"), "free   :");
        String stats = virsh("nodecpustats");
        assertTrue(stats.contains("idle:"), stats);
        String cpu0 = virsh("nodecpustats", "--cpu", "0");
        assertTrue(cpu0.contains("iowait:"), cpu0);
        String max = virsh("maxvcpus");
        assertTrue(max.strip().matches("\\d+"), max);
        check(virsh("sysinfo"), "<sysinfo type='smbios'>");
        check(virsh("capabilities"), "<capabilities>");
        check(virsh("domcapabilities"), "<domain>kvmtool</domain>");
        check(virsh("version", "--daemon"), "Running against daemon: 0.1.0");
    }
}
