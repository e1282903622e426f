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

    @Test
    void pythonAndVirtinstParseTheReplies() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "/usr/bin/python3 is absent");
        String script = """
                import sys, libvirt
                sys.path.insert(0, '/usr/share/virt-manager')
                c = libvirt.open(sys.argv[1])
                print(c.getInfo()[0], len(c.getCPUMap()[1]), c.getFreeMemory() > 0, len(c.getCellsFreeMemory(0, 64)))
                print(c.isSecure(), c.isEncrypted(), c.getLibVersion(), c.getMaxVcpus(None) > 0)
                print(c.getSysinfo().startswith('<sysinfo'), c.getCapabilities().startswith('<capabilities>'))
                import virtinst
                v = virtinst.VirtinstConnection(sys.argv[1])
                v.open(None, None)
                info = v.caps.guest_lookup(os_type='hvm')
                print(info.hypervisor_type, info.arch, info.emulator, info.machines)
                d = virtinst.DomainCapabilities.build_from_params(v, None, None, None, 'kvmtool')
                print(d.domain, d.path == info.emulator, d.supports_safe_host_passthrough(), d.supports_uefi_loader())
                """;
        Process p = new ProcessBuilder(python.toString(), "-c", script, "kvmtool:///system?socket=" + socket)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().toList();
        assertTrue(lines.get(1).startsWith("1 0 1000 True"), out);
        assertEquals("True True", lines.get(2), out);
        assertTrue(lines.get(3).startsWith("kvmtool "), out);
        // no UEFI loader, and host-passthrough without the migratable switch (kvmtool passes every CPUID bit)
        assertTrue(lines.get(4).startsWith("kvmtool True False False"), out);
    }
}
