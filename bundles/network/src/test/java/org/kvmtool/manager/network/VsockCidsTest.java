package org.kvmtool.manager.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.DomainDefinition.Vsock;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** CID choice against a fixture /proc: what other guests' argv names, and what starts in flight hold. */
class VsockCidsTest {
    @TempDir
    Path tmp;
    Path proc;
    Path vhost;
    VsockCids cids;

    @BeforeEach
    void setUp() throws IOException {
        proc = Files.createDirectories(tmp.resolve("proc"));
        vhost = Files.createFile(tmp.resolve("vhost-vsock"));
        cids = new VsockCids(proc, vhost);
        process(1, "/sbin/init");
        process(200, "/usr/bin/lkvm", "run", "--name", "other", "--vsock", "3", "--nodefaults");
        process(201, "/usr/local/bin/lkvm", "run", "--name", "eq", "--vsock=4");
        process(300, "/usr/bin/qemu-system-x86_64", "-device", "vhost-vsock-pci,id=vsock0,guest-cid=6,bus=pci.0");
        Files.createDirectories(proc.resolve("self")); // not a pid: skipped
    }

    private void process(int pid, String... argv) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.write(dir.resolve("cmdline"), (String.join("\0", argv) + "\0").getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void argvFormsOfLkvmAndQemuAreRead() {
        assertEquals(List.of(9L), VsockCids.cidsIn(List.of("lkvm", "run", "--vsock", "9")));
        assertEquals(List.of(9L), VsockCids.cidsIn(List.of("lkvm", "run", "--vsock=9")));
        assertEquals(List.of(12L), VsockCids.cidsIn(List.of("qemu", "-device", "vhost-vsock-pci,guest-cid=12")));
        assertEquals(List.of(), VsockCids.cidsIn(List.of("lkvm", "run", "--vsock")));
        assertEquals(List.of(), VsockCids.cidsIn(List.of("qemu", "-device", "x,not-guest-cid=12")));
    }

    @Test
    void autoTakesTheLowestCidNoGuestUses() {
        assertEquals(5, cids.acquire("a", "owner-a", new Vsock(null, true)), "3 and 4 are lkvm's, 6 QEMU's");
        assertEquals(7, cids.acquire("b", "owner-b", new Vsock(null, true)), "5 is held by a start in flight");
        cids.release("owner-a");
        assertEquals(5, cids.acquire("c", "owner-c", new Vsock(null, true)), "released: free again");
        // a start of the same owner again does not count its own earlier hold
        assertEquals(5, cids.acquire("c", "owner-c", new Vsock(null, true)));
    }

    @Test
    void aGivenCidInUseIsRefusedNamingWhoUsesIt() {
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> cids.acquire("d", "o", new Vsock(3L, false)));
        assertEquals(ErrorCode.OPERATION_INVALID, e.code());
        assertEquals("vsock CID 3 of domain 'd' is in use by lkvm pid 200: give another address, or auto='yes'", e.getMessage());
        assertEquals("vsock CID 6 of domain 'd' is in use by qemu-system-x86_64 pid 300: give another address, or auto='yes'",
                assertThrows(KvmtoolException.class, () -> cids.acquire("d", "o", new Vsock(6L, false))).getMessage());
        assertEquals(40, cids.acquire("d", "o", new Vsock(40L, false)));
        KvmtoolException held = assertThrows(KvmtoolException.class, () -> cids.acquire("e", "o2", new Vsock(40L, false)));
        assertEquals("vsock CID 40 of domain 'e' is in use by a domain being started: give another address, or auto='yes'",
                held.getMessage());
    }

    @Test
    void aHostWithoutVhostVsockRefusesClearly() throws IOException {
        Files.delete(vhost);
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> cids.acquire("v", "o", new Vsock(null, true)));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, e.code());
        assertEquals("domain 'v' has a vsock, but this host has no " + vhost + " (load the vhost_vsock module)", e.getMessage());
    }
}
