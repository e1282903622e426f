package org.kvmtool.manager.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

import org.junit.jupiter.api.Test;

/** The service on this machine, against what other programs (getconf, free, python) say of it. */
class RealHostTest {
    private final HostServiceImpl host = new HostServiceImpl(HostPaths.system(), KvmDevice::maxVcpus);

    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
        return out;
    }

    @Test
    void onlineCpusAndArchAsGetconfAndUnameSay() throws Exception {
        assertEquals(Integer.parseInt(run("getconf", "_NPROCESSORS_ONLN")), host.nodeInfo().cpus());
        assertEquals(Integer.parseInt(run("getconf", "_NPROCESSORS_ONLN")), host.cpuMap().online().size());
        assertEquals(run("uname", "-m"), host.nodeInfo().model());
        assertEquals(run("uname", "-m"), HostReader.elfArch(Path.of("/proc/self/exe")), "the ELF fallback agrees");
        assertEquals(Integer.parseInt(run("getconf", "PAGESIZE")) / 1024, new HostReader(HostPaths.system()).pageSizeKiB());
    }

    @Test
    void memoryTotalAsFreeSays() throws Exception {
        // free -k: "Mem:  total used free shared buff/cache available"
        String mem = run("free", "-k").lines().filter(l -> l.startsWith("Mem:")).findFirst().orElseThrow();
        long total = Long.parseLong(mem.split("\\s+")[1]);
        assertEquals(total, host.nodeInfo().memoryKiB());
        assertEquals(total, host.memoryStats(-1).get("total"));
        long cells = host.cellsFreeMemory(0, 1024).stream().mapToLong(Long::longValue).sum();
        long free = host.freeMemoryBytes();
        // read a moment apart: the sum of the cells and the host's figure move with the page cache
        assertTrue(Math.abs(cells - free) < free / 10 + (64L << 20), cells + " vs " + free);
    }

    @Test
    void kvmsVcpuLimitAsPythonsIoctlSays() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "/usr/bin/python3 is absent");
        assumeTrue(Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm")),
                "/dev/kvm is not open to this user");
        String max = run(python.toString(), "-c", "import fcntl, os; fd = os.open('/dev/kvm', os.O_RDWR); "
                + "print(fcntl.ioctl(fd, 0xAE03, 66))");
        assertEquals(OptionalInt.of(Integer.parseInt(max)), KvmDevice.maxVcpus(Path.of("/dev/kvm")));
        assertEquals(Math.min(Integer.parseInt(max), VcpuLimit.X86_MPTABLE_MAX), host.maxVcpus());
    }

    @Test
    void cpuListFormat() {
        assertEquals(List.of(0, 1, 2, 3, 8, 10, 11), CpuList.parse("0-3,8,10-11\n"));
        assertEquals("0-3,8,10-11", CpuList.format(List.of(11, 10, 8, 3, 2, 1, 0)));
        assertEquals(List.of(), CpuList.parse(" "));
        assertEquals("5", CpuList.format(List.of(5)));
    }
}
