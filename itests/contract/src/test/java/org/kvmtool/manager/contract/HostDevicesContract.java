package org.kvmtool.manager.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What lkvm 3.18 does with the host devices a manager hands it, measured on the real lkvm and asserted of
 * both (see docs/kvmtool-facts-network.md): taps (-n mode=tap), vhost-vsock (--vsock) and guest RAM from
 * hugetlbfs (--hugetlbfs). Taps live in a network namespace of the test's own; lkvm's user is uid 65534.
 * Most tests need root and skip without it.
 */
abstract class HostDevicesContract {
    static final Duration T = Duration.ofSeconds(20);
    static final String TAP_REFUSED = "  Warning: Config tap device error. Are you root?\n"
            + "You have requested a TAP device, but creation of one has failed because: ";
    static final String NET_COMPAT = "  Warning: KVM compatibility warning.\n"
            + "\tvirtio-net device was not detected.\n"
            + "\tWhile you have requested a virtio-net device, the guest kernel did not initialize it.\n"
            + "\tPlease make sure that the guest kernel was compiled with CONFIG_VIRTIO_NET=y enabled in .config.\n";

    private final List<AutoCloseable> resources = new ArrayList<>();

    abstract Path binary();

    @AfterEach
    void tearDown() throws Exception {
        // in reverse: each lkvm ends before its namespace or mount goes
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <R extends AutoCloseable> R keep(R r) {
        resources.add(r);
        return r;
    }

    private static void assumeRoot() throws IOException {
        assumeTrue(Host.isRoot(), "needs root: taps, other users, hugetlbfs mounts and the huge page pool");
        assumeTrue(Host.tool("ip").isPresent(), "needs ip (iproute2) for network namespaces and taps");
        assumeTrue(Host.tool("setpriv").isPresent(), "needs setpriv (util-linux) to run lkvm as another user");
    }

    private NetNs netns() throws Exception {
        assumeRoot();
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "needs /dev/net/tun");
        return new NetNs(keep(Host.NetNs.create()));
    }

    /** An lkvm run as root in the namespace, or as lkvm's user (uid 65534) when asUser. */
    private Lkvm lkvm(NetNs ns, boolean asUser) throws Exception {
        List<String> prefix = new ArrayList<>(ns.ns().prefix());
        if (asUser) {
            prefix.addAll(Host.asUser(Host.NOBODY, Host.NOBODY, Host.kvmGroup()));
        }
        Lkvm lkvm = keep(new Lkvm(binary(), prefix));
        if (asUser) {
            Host.chown(lkvm.home(), Host.NOBODY);
        }
        return lkvm;
    }

    /** The test guest in lkvm's HOME, where lkvm's user can read it. */
    private static Path guest(Lkvm lkvm) throws IOException {
        Path g = lkvm.home().resolve("guest.bin");
        if (!Files.exists(g)) {
            Files.copy(LkvmContract.guest(), g);
            Files.setPosixFilePermissions(g, PosixFilePermissions.fromString("rw-r--r--"));
        }
        return g;
    }

    private static List<String> runArgs(Lkvm lkvm, String name, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("run", "--name", name, "-k", guest(lkvm).toString(), "-m", "64",
                "-c", "1", "--nodefaults"));
        args.addAll(List.of(extra));
        return args;
    }

    private static Lkvm.Instance booted(Lkvm lkvm, String name, String... extra) throws Exception {
        Lkvm.Instance vm = lkvm.start(name, runArgs(lkvm, name, extra));
        assertTrue(vm.pty().await("GUEST READY\r\n", T), "banner; stderr: " + vm.stderr());
        return vm;
    }

    private static Lkvm.Result failed(Lkvm lkvm, String name, String... extra) throws Exception {
        Lkvm.Result r = lkvm.command(T, runArgs(lkvm, name, extra).toArray(String[]::new));
        assertTrue(r.finished(), "lkvm run ended");
        return r;
    }

    /** What lkvm prints before any device: its command line and the flat-binary warnings. */
    private static String head(Lkvm lkvm, String name) throws IOException {
        return "  Info: # lkvm run -k " + guest(lkvm) + " -m 64 -c 1 --name " + name + "\n"
                + "  Warning: Kernel image is not a bzImage.\n"
                + "  Warning: Trying to load it as a flat binary (no cmdline support)\n";
    }

    private static long tunDescriptors(Lkvm.Instance vm) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(vm.pid()), "fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals("/dev/net/tun");
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }

    private static void stop(Lkvm.Instance vm) throws Exception {
        vm.awaitReady(T);
        vm.awaitVcpus(1, T);
        Ipc.command(vm.socket(), Ipc.STOP);
        assertEquals(0, vm.awaitExit(T), "stopped: " + vm.stderr());
    }

    /** A namespace with the test's taps. */
    private record NetNs(Host.NetNs ns) {
        void tap(String name, String... options) throws Exception {
            List<String> args = new ArrayList<>(List.of("tuntap", "add", "dev", name, "mode", "tap"));
            args.addAll(List.of(options));
            ns.ip(args.toArray(String[]::new));
        }

        String link(String name) throws Exception {
            return ns.ip("-d", "link", "show", name);
        }
    }

    // ---- taps ----

    @Test
    void tapifIsOpenedWithVnetHeadersAndHeldForTheLifeOfTheProcess() throws Exception {
        NetNs ns = netns();
        ns.tap("kt0");
        assertTrue(ns.link("kt0").contains("vnet_hdr off"), ns.link("kt0"));
        Lkvm lkvm = lkvm(ns, false);
        Lkvm.Instance vm = booted(lkvm, "tap", "-n", "mode=tap,tapif=kt0,guest_mac=52:54:00:12:34:56");
        assertEquals(1, tunDescriptors(vm), "one /dev/net/tun descriptor");
        // TUNSETIFF with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR on the persistent tap
        assertTrue(ns.link("kt0").contains("tun type tap pi off vnet_hdr on persist on"), ns.link("kt0"));
        stop(vm);
        assertEquals(head(lkvm, "tap") + NET_COMPAT + "  Info: KVM session ended normally.\n", vm.stderr());
        assertEquals(List.of("kt0"), ns.ns().taps(), "the persistent tap stays");
    }

    @Test
    void tapifNamingNoTapMakesOneForTheLifeOfTheProcess() throws Exception {
        NetNs ns = netns();
        Lkvm lkvm = lkvm(ns, false);
        Lkvm.Instance vm = booted(lkvm, "mk", "-n", "mode=tap,tapif=kt9");
        assertTrue(ns.link("kt9").contains("tun type tap pi off vnet_hdr on persist off"), ns.link("kt9"));
        stop(vm);
        assertEquals(List.of(), ns.ns().taps(), "the tap went with its only descriptor");
    }

    @Test
    void tapWithoutTapifGetsTheKernelsNextTapName() throws Exception {
        NetNs ns = netns();
        Lkvm lkvm = lkvm(ns, false);
        Lkvm.Instance vm = booted(lkvm, "anon", "-n", "mode=tap");
        assertEquals(List.of("tap0"), ns.ns().taps());
        Lkvm.Instance second = booted(lkvm, "anon2", "-n", "mode=tap");
        assertEquals(List.of("tap0", "tap1"), ns.ns().taps());
        stop(vm);
        stop(second);
        assertEquals(List.of(), ns.ns().taps());
    }

    @Test
    void lkvmsUserMayUseItsOwnTapAndOneWithoutOwner() throws Exception {
        NetNs ns = netns();
        ns.tap("ktn", "user", Integer.toString(Host.NOBODY));
        ns.tap("kt0");
        Lkvm lkvm = lkvm(ns, true);
        Lkvm.Instance own = booted(lkvm, "own", "-n", "mode=tap,tapif=ktn");
        Lkvm.Instance free = booted(lkvm, "free", "-n", "mode=tap,tapif=kt0");
        assertEquals(1, tunDescriptors(own));
        assertEquals(1, tunDescriptors(free));
        stop(own);
        stop(free);
    }

    @Test
    void aTapOwnedByAnotherUserIsRefused() throws Exception {
        NetNs ns = netns();
        ns.tap("kto", "user", "1");
        Lkvm lkvm = lkvm(ns, true);
        Lkvm.Result r = failed(lkvm, "other", "-n", "mode=tap,tapif=kto");
        assertEquals(head(lkvm, "other") + TAP_REFUSED + "Operation not permitted\n", r.stderr());
        assertEquals("", r.stdout());
        assertEquals(1, r.exitCode());
        // it failed after the IPC socket was made, and exit(1) leaves it
        assertTrue(Files.exists(lkvm.socket("other")), "ghost socket left");
        assertTrue(ns.link("kto").contains("vnet_hdr off persist on user "), "untouched: " + ns.link("kto"));
    }

    @Test
    void lkvmsUserCannotMakeATap() throws Exception {
        NetNs ns = netns();
        Lkvm lkvm = lkvm(ns, true);
        Lkvm.Result named = failed(lkvm, "mk", "-n", "mode=tap,tapif=kt9");
        assertEquals(head(lkvm, "mk") + TAP_REFUSED + "Operation not permitted\n", named.stderr());
        assertEquals(1, named.exitCode());
        Lkvm.Result any = failed(lkvm, "any", "-n", "mode=tap");
        assertEquals(head(lkvm, "any") + TAP_REFUSED + "Operation not permitted\n", any.stderr());
        assertEquals(1, any.exitCode());
        assertEquals(List.of(), ns.ns().taps());
    }

    @Test
    void aTapInUseOrOfAnotherKindIsRefused() throws Exception {
        NetNs ns = netns();
        ns.tap("kt0");
        ns.tap("ktq", "multi_queue");
        ns.ns().ip("tuntap", "add", "dev", "ktu", "mode", "tun");
        Lkvm lkvm = lkvm(ns, false);
        booted(lkvm, "holder", "-n", "mode=tap,tapif=kt0");
        Lkvm.Result busy = failed(lkvm, "busy", "-n", "mode=tap,tapif=kt0");
        assertEquals(head(lkvm, "busy") + TAP_REFUSED + "Device or resource busy\n", busy.stderr());
        assertEquals(1, busy.exitCode());
        for (String dev : List.of("ktq", "ktu", "lo")) {
            Lkvm.Result r = failed(lkvm, "k" + dev, "-n", "mode=tap,tapif=" + dev);
            assertEquals(head(lkvm, "k" + dev) + TAP_REFUSED + "Invalid argument\n", r.stderr(), dev);
            assertEquals(1, r.exitCode(), dev);
        }
    }

    @Test
    void downscriptRunsAtTheEndWithTheTapNameAndScriptNever() throws Exception {
        NetNs ns = netns();
        ns.tap("kt0");
        Lkvm lkvm = lkvm(ns, false);
        Path log = lkvm.home().resolve("scripts.log");
        Path up = script(lkvm.home().resolve("up.sh"), "echo \"up $1\" >> " + log + "\n");
        Path down = script(lkvm.home().resolve("down.sh"), "echo \"down $1\" >> " + log + "\nexit 3\n");
        // mode=none first: no default NIC, yet the tap NIC after it is made
        Lkvm.Instance vm = booted(lkvm, "scr", "-n", "mode=none", "-n",
                "mode=tap,tapif=kt0,script=" + up + ",downscript=" + down);
        assertFalse(Files.exists(log), "script= runs only when the guest's driver starts the NIC");
        stop(vm);
        assertEquals("down kt0\n", Files.readString(log));
        assertEquals(head(lkvm, "scr") + NET_COMPAT + "  Warning: Fail to setup tap by " + down + "\n"
                + "  Info: KVM session ended normally.\n", vm.stderr());
    }

    private static Path script(Path p, String body) throws IOException {
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    // ---- vhost-vsock ----

    @Test
    void vsockWithoutVhostVsockIsFatal() throws Exception {
        assumeTrue(!Files.exists(Path.of("/dev/vhost-vsock")), "this host has /dev/vhost-vsock");
        try (Lkvm lkvm = new Lkvm(binary())) {
            Lkvm.Result r = failed(lkvm, "vs", "-n", "mode=none", "--vsock", "3");
            assertEquals(head(lkvm, "vs") + "Failed opening vhost-vsock device: No such file or directory\n",
                    r.stderr());
            assertEquals(1, r.exitCode());
            assertTrue(Files.exists(lkvm.socket("vs")), "ghost socket left");
        }
    }

    @Test
    void vsockOnADeviceThatIsNotVhostIsFatal() throws Exception {
        assumeRoot();
        assumeTrue(Host.tool("unshare").isPresent(), "needs unshare (util-linux) for a mount namespace");
        // a private /dev whose vhost-vsock is /dev/null: open succeeds, VHOST_SET_OWNER does not
        // (built on /mnt, shadowed in the namespace only: nothing is left on the host)
        String dev = "set -e; mount --make-rprivate /; d=/mnt; mount -t tmpfs none $d; mkdir $d/net;"
                + " for f in kvm null zero urandom net/tun; do if [ -e /dev/$f ]; then touch $d/$f;"
                + " mount --bind /dev/$f $d/$f; fi; done; touch $d/vhost-vsock; mount --bind /dev/null $d/vhost-vsock;"
                + " mount --rbind $d /dev; exec \"$@\"";
        try (Lkvm lkvm = new Lkvm(binary(), List.of(Host.tool("unshare").orElseThrow().toString(), "-m",
                "/bin/sh", "-c", dev, "sh"))) {
            Lkvm.Result r = failed(lkvm, "vn", "-n", "mode=none", "--vsock", "3");
            assertEquals(head(lkvm, "vn") + "VHOST_SET_OWNER failed: Inappropriate ioctl for device\n", r.stderr());
            assertEquals(1, r.exitCode());
        }
    }

    @Test
    void vsockHoldsItsCidAndASecondGuestCannotTakeIt() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/vhost-vsock")), "no /dev/vhost-vsock on this host (modprobe vhost_vsock)");
        try (Lkvm lkvm = new Lkvm(binary())) {
            String cid = Long.toString(100_000 + ProcessHandle.current().pid());
            Lkvm.Instance vm = lkvm.start("v1", runArgs(lkvm, "v1", "-n", "mode=none", "--vsock", cid));
            assertTrue(vm.pty().await("GUEST READY\r\n", T), vm.stderr());
            Lkvm.Result r = failed(lkvm, "v2", "-n", "mode=none", "--vsock", cid);
            assertEquals(head(lkvm, "v2") + "VHOST_VSOCK_SET_GUEST_CID failed: Address already in use\n", r.stderr());
            assertEquals(1, r.exitCode());
        }
    }

    // ---- hugetlbfs ----

    @Test
    void hugetlbfsMustBeAHugetlbfsMount() throws Exception {
        try (Lkvm lkvm = new Lkvm(binary())) {
            Lkvm.Result notHuge = failed(lkvm, "h1", "-n", "mode=none", "--hugetlbfs", lkvm.home().toString());
            assertEquals("  Info: # lkvm run -k " + guest(lkvm) + " -m 64 -c 1 --name h1\n"
                    + "  Fatal: " + lkvm.home() + " is not hugetlbfs!\n\n", notHuge.stderr());
            assertEquals(128, notHuge.exitCode());
            String missing = lkvm.home() + "/none";
            Lkvm.Result absent = failed(lkvm, "h2", "-n", "mode=none", "--hugetlbfs", missing);
            assertEquals("  Info: # lkvm run -k " + guest(lkvm) + " -m 64 -c 1 --name h2\n"
                    + "  Fatal: Can't stat " + missing + "\n\n", absent.stderr());
            assertEquals(128, absent.exitCode());
            assertFalse(Files.exists(lkvm.socket("h1")) || Files.exists(lkvm.socket("h2")), "no socket yet");
        }
    }

    private Host.Hugetlbfs hugetlbfs(String options) throws Exception {
        assumeRoot();
        assumeTrue(Files.readString(Path.of("/proc/filesystems")).contains("\thugetlbfs\n"),
                "the kernel has no hugetlbfs");
        return keep(Host.Hugetlbfs.mount(options));
    }

    @Test
    void guestRamComesFromHugePagesWhileThereAreEnough() throws Exception {
        Host.Hugetlbfs fs = hugetlbfs("pagesize=2M");
        assumeTrue(fs.reserve(32), "the kernel could not find 32 free 2 MiB pages for the pool");
        Lkvm lkvm = keep(new Lkvm(binary()));
        Lkvm.Instance vm = booted(lkvm, "huge", "-n", "mode=none", "--hugetlbfs", fs.dir().toString());
        vm.pty().write("!"); // echoed once the guest has touched all its RAM
        assertTrue(vm.pty().await("GUEST READY\r\n!", Duration.ofSeconds(60)), vm.pty().transcript());
        assertEquals(64 * 1024, hugetlbKiB(vm), "64 MiB of guest RAM in huge pages");
        try (Stream<Path> files = Files.list(fs.dir())) {
            assertEquals(0, files.count(), "the backing file is unlinked at once");
        }
        // one page more than the pool has free now: the private mapping's reservation fails
        long free = Host.meminfo("HugePages_Free");
        String mb = Long.toString(2 * (free + 1));
        Lkvm.Result r = lkvm.command(T, "run", "--name", "short", "-k", guest(lkvm).toString(), "-m", mb, "-c", "1",
                "--nodefaults", "-n", "mode=none", "--hugetlbfs", fs.dir().toString());
        assertTrue(r.finished());
        assertEquals("  Info: # lkvm run -k " + guest(lkvm) + " -m " + mb + " -c 1 --name short\n"
                + "  Fatal: out of memory\n", r.stderr());
        assertEquals(128, r.exitCode());
    }

    private static long hugetlbKiB(Lkvm.Instance vm) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc", Long.toString(vm.pid()), "status"))) {
            if (l.startsWith("HugetlbPages:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no HugetlbPages in /proc/" + vm.pid() + "/status");
    }

    @Test
    void aMountTooSmallOrWithPagesLargerThanTheGuestIsRefused() throws Exception {
        Host.Hugetlbfs small = hugetlbfs("pagesize=2M,size=32M");
        Lkvm lkvm = keep(new Lkvm(binary()));
        Lkvm.Result r = failed(lkvm, "s", "-n", "mode=none", "--hugetlbfs", small.dir().toString());
        assertEquals("  Info: # lkvm run -k " + guest(lkvm) + " -m 64 -c 1 --name s\n"
                + "  Fatal: out of memory\n", r.stderr());
        assertEquals(128, r.exitCode());
        Lkvm.Result tiny = lkvm.command(T, "run", "--name", "t", "-k", guest(lkvm).toString(), "-m", "1", "-c", "1",
                "--nodefaults", "-n", "mode=none", "--hugetlbfs", small.dir().toString());
        assertTrue(tiny.finished());
        assertEquals("  Info: # lkvm run -k " + guest(lkvm) + " -m 1 -c 1 --name t\n"
                + "  Fatal: Can't use hugetlbfs pagesize 2097152 for mem size 1048576\n\n", tiny.stderr());
        assertEquals(128, tiny.exitCode());
    }

    @Test
    void lkvmsUserNeedsToCreateAFileInTheMount() throws Exception {
        Host.Hugetlbfs fs = hugetlbfs("pagesize=2M,mode=0755");
        Lkvm lkvm = keep(new Lkvm(binary(), Host.asUser(Host.NOBODY, Host.NOBODY, Host.kvmGroup())));
        Host.chown(lkvm.home(), Host.NOBODY);
        Lkvm.Result r = failed(lkvm, "u", "-n", "mode=none", "--hugetlbfs", fs.dir().toString());
        // mkstemp's template, as left by the failed attempt
        assertTrue(r.stderr().matches("\\Q" + "  Info: # lkvm run -k " + guest(lkvm) + " -m 64 -c 1 --name u\n"
                + "  Fatal: Can't open " + fs.dir() + "/kvmtool\\E[A-Za-z0-9]{6} for hugetlbfs map\n\n"), r.stderr());
        assertEquals(128, r.exitCode());
    }
}
