package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.StateReason;
import org.kvmtool.manager.core.fakes.FakeCodec;

/** A full disk never loses a definition, never leaves half a file, never kills a running guest. */
class DiskFullTest {
    @TempDir
    Path tmp;
    Fixture f;
    volatile boolean full;

    private KvmtoolDriver driver() {
        f = new Fixture(tmp);
        f.io = new AtomicFile.Io() {
            @Override
            public FileChannel openForWrite(Path p) throws IOException {
                return full ? StoresTest.ENOSPC.openForWrite(p) : AtomicFile.REAL.openForWrite(p);
            }
        };
        return f.activate();
    }

    @AfterEach
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void defineOnAFullDisk() throws Exception {
        KvmtoolDriver driver = driver();
        driver.define(FakeCodec.xml("vm1"));
        String before = Files.readString(f.settings.configDir().resolve("vm1.xml"));
        full = true;
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.define(FakeCodec.xml("vm2")));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        assertTrue(e.getMessage().endsWith("No space left on device"), e.getMessage());
        assertTrue(driver.lookup("vm2").isEmpty(), "not defined in memory either");
        String uuid = driver.lookup("vm1").orElseThrow().uuid().toString();
        assertThrows(KvmtoolException.class, () -> driver.define(FakeCodec.xml("vm1", "<uuid>" + uuid + "</uuid><memory unit='MiB'>32</memory>").replace("<memory unit='MiB'>64</memory>", "")));
        assertEquals(before, Files.readString(f.settings.configDir().resolve("vm1.xml")));
        assertEquals(64L << 20, driver.lookup("vm1").orElseThrow().maxMemoryBytes());
    }

    @Test
    void startOnAFullDiskRollsBack() throws Exception {
        KvmtoolDriver driver = driver();
        driver.define(FakeCodec.xml("vm1"));
        full = true;
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.start("vm1"));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        // the status write's own error, known by its type: not "lkvm ended while starting" (it never ran)
        assertEquals(FileWriteException.class, e.getClass(), e.toString());
        assertEquals(f.settings.statusDir().resolve("vm1.status"), ((FileWriteException) e).target());
        assertEquals(DomainState.SHUTOFF, driver.lookup("vm1").orElseThrow().state());
        assertEquals(StateReason.FAILED, driver.lookup("vm1").orElseThrow().reason());
        assertEquals(List.of(), f.leftovers());
        assertEquals(List.of(), List.copyOf(f.host.processes.keySet()), "no lkvm ran: its status file comes first");
    }

    @Test
    void aFullDiskNeverKillsARunningGuest() throws Exception {
        KvmtoolDriver driver = driver();
        driver.define(FakeCodec.xml("vm1"));
        driver.start("vm1");
        long pid = driver.lookup("vm1").orElseThrow().pid();
        Path st = f.settings.statusDir().resolve("vm1.status");
        String saved = Files.readString(st);
        full = true;
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.suspend("vm1"));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        assertTrue(e.getMessage().startsWith("domain 'vm1' is paused but its status could not be saved"), e.getMessage());
        assertEquals(DomainState.PAUSED, driver.lookup("vm1").orElseThrow().state(), "the state tells the truth");
        assertEquals(saved, Files.readString(st), "the previous status is intact");
        assertTrue(f.host.aliveNamed("vm1").get(0).alive);
        assertEquals(pid, f.host.aliveNamed("vm1").get(0).pid());
        full = false;
        driver.resume("vm1");
        driver.destroy("vm1");
    }

    @Test
    void realTmpfsFullDuringDefineAndStart() throws Exception {
        assumeTrue(Mounts.canMount(), "needs root and mount(8) to mount a small tmpfs");
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        try (Mounts.Tmpfs fs = Mounts.tmpfs(mnt, "256k")) {
            f = new Fixture(mnt);
            KvmtoolDriver driver = f.activate();
            driver.define(FakeCodec.xml("vm1"));
            fs.fill();
            KvmtoolException e = assertThrows(KvmtoolException.class, () -> driver.define(FakeCodec.xml("vm2")));
            assertTrue(e.getMessage().endsWith("No space left on device"), e.getMessage());
            e = assertThrows(KvmtoolException.class, () -> driver.start("vm1"));
            assertEquals(ErrorCode.SYSTEM_ERROR, e.code(), e.toString());
            assertEquals(StateReason.FAILED, driver.lookup("vm1").orElseThrow().reason());
            assertTrue(f.host.alive().isEmpty());
            assertFalse(Files.exists(f.settings.statusDir().resolve("vm1.status")));
            fs.unfill();
            driver.start("vm1");
            driver.destroy("vm1");
            f.close();
            f = null;
        }
    }
}
