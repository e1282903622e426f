package org.kvmtool.manager.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The stand-in's own fault and guest behaviours, selected by marker kernel files ("KVMTOOL-STANDIN ..."):
 * what other modules' tests use to provoke crashes, floods, slow starts and a Linux-like guest.
 */
class StandinFaultsTest {
    private static final Duration T = Duration.ofSeconds(20);
    private Lkvm lkvm;

    @BeforeEach
    void setUp() throws IOException {
        lkvm = new Lkvm(Path.of(System.getProperty("kvmtool.standin.lkvm")));
    }

    @AfterEach
    void tearDown() throws IOException {
        lkvm.close();
    }

    private Path marker(String tokens) throws IOException {
        Path p = Files.createTempFile(lkvm.home(), "kernel", ".txt");
        Files.writeString(p, "KVMTOOL-STANDIN " + tokens + "\n");
        return p;
    }

    @Test
    void crashAfterMsDiesOfSigsegvLeavingAGhost() throws Exception {
        Lkvm.Instance vm = lkvm.run("crash", marker("crash-after-ms=300"), 64, 1);
        vm.awaitReady(T);
        assertEquals(128 + 11, vm.awaitExit(T));
        assertTrue(Files.exists(vm.socket()));
        assertFalse(vm.stderr().contains("ended normally"));
    }

    @Test
    void floodWaitsForAReaderAndLosesNothing() throws Exception {
        int n = 200_000;
        Lkvm.Instance vm = lkvm.run("flood", marker("flood=" + n), 64, 1);
        vm.awaitReady(T);
        Thread.sleep(1000); // nobody reads: the guest's output blocks once the pty is full
        assertEquals(-1, vm.awaitExit(Duration.ofMillis(10)), "lkvm stays alive");
        vm.pty().drain(Duration.ofSeconds(3));
        String out = vm.pty().transcript();
        assertTrue(out.startsWith("GUEST READY\r\n0123456789abcdef"), out.substring(0, Math.min(80, out.length())));
        assertEquals("GUEST READY\r\n".length() + n, out.length());
    }

    @Test
    void aVersion1TestGuestEchoesTheFloodCommand() throws Exception {
        // guest.bin before the flood command: the stand-in emulates the version its signature names
        byte[] image = Files.readAllBytes(Path.of(System.getProperty("kvmtool.test.guest")));
        String text = new String(image, StandardCharsets.ISO_8859_1);
        int sig = text.indexOf("KVMTOOL-MANAGER-TEST-GUEST/2");
        assertTrue(sig > 0, "signature of version 2");
        image[sig + "KVMTOOL-MANAGER-TEST-GUEST/".length()] = '1';
        Path v1 = Files.write(lkvm.home().resolve("guest-v1.bin"), image);
        Lkvm.Instance vm = lkvm.run("v1", v1, 64, 1);
        vm.awaitReady(T);
        assertTrue(vm.pty().await("GUEST READY\r\n", T), vm.pty().transcript());
        vm.pty().write(LkvmContract.FLOOD + "5x");
        assertTrue(vm.pty().await("GUEST READY\r\n" + LkvmContract.FLOOD + "5x", T), vm.pty().transcript());
    }

    @Test
    void ignoreSigtermNeedsSigkill() throws Exception {
        Lkvm.Instance vm = lkvm.run("stubborn", marker("ignore-sigterm"), 64, 1);
        vm.awaitReady(T);
        vm.process().destroy();
        assertEquals(-1, vm.awaitExit(Duration.ofMillis(700)));
        vm.process().destroyForcibly();
        assertEquals(128 + 9, vm.awaitExit(T));
    }

    @Test
    void socketDelayPostponesTheSocket() throws Exception {
        Lkvm.Instance vm = lkvm.run("slow", marker("socket-delay-ms=600"), 64, 1);
        Thread.sleep(250);
        assertFalse(Files.exists(vm.socket()), "no socket yet");
        Duration ready = vm.awaitReady(T);
        assertTrue(ready.toMillis() >= 600, "ready after " + ready);
    }

    @Test
    void listenDelayRefusesConnectionsWhileTheFileExists() throws Exception {
        Lkvm.Instance vm = lkvm.run("refuse", marker("socket-delay-ms=0 listen-delay-ms=800"), 64, 1);
        long deadline = System.nanoTime() + T.toNanos();
        while (!Files.exists(vm.socket()) && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        IOException refused = null;
        try (Ipc ipc = Ipc.connect(vm.socket(), Duration.ZERO)) {
            // connected: not expected inside the window
        } catch (IOException e) {
            refused = e;
        }
        assertTrue(refused != null && String.valueOf(refused.getCause()).contains("refused"), String.valueOf(refused));
        assertEquals((int) vm.pid(), Ipc.query(vm.socket(), Ipc.PID));
    }

    @Test
    void poweroffAfterMsEndsNormally() throws Exception {
        Lkvm.Instance vm = lkvm.run("self", marker("poweroff-after-ms=300"), 64, 1);
        assertEquals(0, vm.awaitExit(T));
        assertTrue(vm.stderr().endsWith("  Info: KVM session ended normally.\n"), vm.stderr());
        assertFalse(Files.exists(vm.socket()));
    }

    @Test
    void failCpuFailsLikeAHostWithoutVmx() throws Exception {
        Path k = marker("fail=cpu");
        Lkvm.Result r = lkvm.command(T, "run", "--name", "novmx", "-k", k.toString(), "-m", "64", "-c", "1",
                "--nodefaults", "-n", "mode=none");
        assertTrue(r.finished());
        assertEquals(128, r.exitCode());
        assertEquals("  Info: # lkvm run -k " + k + " -m 64 -c 1 --name novmx\n"
                + "  Error: Your CPU does not support hardware virtualization\n"
                + "  Warning: Failed init: kvm__init\n\n"
                + "  Fatal: Initialisation failed\n", r.stderr());
    }

    @Test
    void devicesTheGuestNeverInitialisedAreReportedAtExit() throws Exception {
        Lkvm.Instance vm = lkvm.run("compat", Path.of(System.getProperty("kvmtool.test.guest")), 64, 1,
                "--balloon", "--rng");
        vm.awaitReady(T);
        vm.awaitVcpus(1, T);
        Ipc.command(vm.socket(), Ipc.STOP);
        assertEquals(0, vm.awaitExit(T));
        assertTrue(vm.stderr().endsWith("  Warning: KVM compatibility warning.\n"
                + "\tvirtio-balloon device was not detected.\n"
                + "\tWhile you have requested a virtio-balloon device, the guest kernel did not initialize it.\n"
                + "\tPlease make sure that the guest kernel was compiled with CONFIG_VIRTIO_BALLOON=y enabled in .config.\n"
                + "  Warning: KVM compatibility warning.\n"
                + "\tvirtio-rng device was not detected.\n"
                + "\tWhile you have requested a virtio-rng device, the guest kernel did not initialize it.\n"
                + "\tPlease make sure that the guest kernel was compiled with CONFIG_HW_RANDOM_VIRTIO=y enabled in .config.\n"
                + "  Info: KVM session ended normally.\n"), vm.stderr());
    }

    private Lkvm.Instance linux(String name, int mb) throws Exception {
        Lkvm.Instance vm = lkvm.run(name, marker("linux"), mb, 2, "--balloon", "-p", "console=ttyS0 root=/dev/vda");
        vm.awaitReady(T);
        vm.awaitVcpus(2, T);
        assertTrue(vm.pty().await("STANDIN LINUX READY\r\n", T), vm.pty().transcript());
        return vm;
    }

    @Test
    void linuxGuestBootsAsABzImageWithTheCommandLineVerbatim() throws Exception {
        Lkvm.Instance vm = linux("lin", 64);
        assertTrue(vm.pty().transcript().contains("] Command line: console=ttyS0 root=/dev/vda\r\n"),
                vm.pty().transcript());
        assertFalse(vm.stderr().contains("bzImage"), vm.stderr());
        vm.pty().write("abc");
        assertTrue(vm.pty().await("READY\r\nabc", T), vm.pty().transcript());
    }

    @Test
    void linuxGuestAnswersStatAndItsBalloonReleasesMemory() throws Exception {
        Lkvm.Instance vm = linux("bal", 128);
        try (Ipc ipc = Ipc.connect(vm.socket(), T)) {
            ipc.send(Ipc.STAT);
            ByteBuffer stats = ByteBuffer.wrap(ipc.read(100, T).orElseThrow()).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(5, stats.getShort(50)); // the sixth entry: VIRTIO_BALLOON_S_MEMTOT
            assertEquals(128L << 20, stats.getLong(52));
        }
        long before = vm.rssKiB();
        Ipc.command(vm.socket(), Ipc.BALLOON, LkvmContract.le(64));
        Ipc.query(vm.socket(), Ipc.PID); // answered once the single IPC thread is done with the balloon
        long inflated = vm.rssKiB();
        Ipc.command(vm.socket(), Ipc.BALLOON, LkvmContract.le(-64));
        Ipc.query(vm.socket(), Ipc.PID);
        long deflated = vm.rssKiB();
        assertTrue(before - inflated > 60 * 1024, "inflate 64 MB: " + before + " -> " + inflated + " KiB");
        assertTrue(deflated - inflated > 60 * 1024, "deflate 64 MB: " + inflated + " -> " + deflated + " KiB");
    }

    @Test
    void linuxGuestHonoursSysrqSyncUnmountAndReset() throws Exception {
        Lkvm.Instance vm = linux("rq", 64);
        // one SysRq can be pending, delivered with the next console input (as by lkvm): one at a time
        sysrq(vm, 's');
        assertTrue(vm.pty().await("] Emergency Sync complete\r\n", T), vm.pty().transcript());
        sysrq(vm, 'u');
        assertTrue(vm.pty().await("] Emergency Remount complete\r\n", T), vm.pty().transcript());
        sysrq(vm, 'b');
        assertEquals(0, vm.awaitExit(T));
        assertTrue(vm.pty().await("sysrq: Resetting\r\n", T), vm.pty().transcript());
        assertTrue(vm.stderr().endsWith("  Info: KVM session ended normally.\n"), vm.stderr());
    }

    @Test
    void linuxGuestHaltsOnSysrqPoweroffAndLkvmRunsOn() throws Exception {
        Lkvm.Instance vm = linux("halt", 64);
        sysrq(vm, 'o');
        assertTrue(vm.pty().await("reboot: Power down\r\n", T), vm.pty().transcript());
        assertEquals(-1, vm.awaitExit(Duration.ofMillis(500)));
        long t0 = vm.cpuTicks();
        Thread.sleep(1000);
        assertTrue(vm.cpuTicks() - t0 <= 10, "a halted guest's vCPUs idle");
        assertEquals(Optional.of(0), Optional.of(Ipc.query(vm.socket(), Ipc.VMSTATE)));
    }

    /**
     * Queues a SysRq key and sends the console byte that delivers it. lkvm serves IPC connections one after
     * the other, so an answer on a new connection proves the key is queued: a byte sent before that would
     * reach the guest without it.
     */
    private static void sysrq(Lkvm.Instance vm, char key) throws Exception {
        Ipc.command(vm.socket(), Ipc.DEBUG, LkvmContract.debug(4, 0, key));
        Ipc.query(vm.socket(), Ipc.VMSTATE);
        vm.pty().write("\r");
    }
}
