package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.CgroupRef;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.StateReason;

class StoresTest {
    @TempDir
    Path tmp;

    /** Writes half of the data, then fails as a full disk does. */
    static final AtomicFile.Io ENOSPC = p -> new DelegatingChannel(FileChannel.open(p,
            java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE));

    @Test
    void statusRoundTrips() {
        DomainStatus s = new DomainStatus("vm", UUID.randomUUID(), 7,
                new ProcessIdentity(123, 456, List.of("/usr/bin/lkvm", "run", "--name", "vm", "-p", "a=b c\nd")),
                1700000000000L, "/dev/pts/3", new CgroupRef("vm.kvmtool", List.of("/sys/fs/cgroup/cpu/machine/vm.kvmtool",
                "/sys/fs/cgroup/memory/machine/vm.kvmtool"), false), "/run/kvmtool-manager/home/7",
                "/run/kvmtool-manager/home/7/.lkvm/vm.sock", StateReason.PAUSED_USER, true, 32L << 20,
                "<domain type='kvmtool'>\n  <name>vm</name>\n  <description>é ü \\ = :</description>\n</domain>\n");
        assertEquals(s, StatusStore.parse(StatusStore.format(s)));
        DomainStatus noCgroup = new DomainStatus("vm", s.uuid(), 1, s.process(), 0, null, null, null, null,
                StateReason.BOOTED, false, 0, "<domain/>");
        assertEquals(noCgroup, StatusStore.parse(StatusStore.format(noCgroup)));
    }

    @Test
    void atomicWriteReplacesWholeFiles() throws Exception {
        AtomicFile files = new AtomicFile(AtomicFile.REAL);
        Path f = tmp.resolve("d/x.status");
        files.write(f, "one".getBytes());
        files.write(f, "two".getBytes());
        assertEquals("two", Files.readString(f));
        try (var l = Files.list(f.getParent())) {
            assertEquals(List.of(f), l.toList(), "no temporary file left");
        }
    }

    @Test
    void aFullDiskLeavesThePreviousFileIntact() throws Exception {
        Path f = tmp.resolve("x.status");
        new AtomicFile(AtomicFile.REAL).write(f, "previous".getBytes());
        KvmtoolException e = assertThrows(KvmtoolException.class,
                () -> new AtomicFile(ENOSPC).write(f, "next and longer".getBytes()));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        assertEquals(FileWriteException.class, e.getClass());
        assertEquals("cannot write " + f + ": No space left on device", e.getMessage());
        assertEquals("previous", Files.readString(f));
        try (var l = Files.list(tmp)) {
            assertEquals(List.of(f), l.toList(), "the half-written temporary file is removed");
        }
    }

    @Test
    void realFullTmpfsAndReadOnlyMount() throws Exception {
        assumeTrue(Mounts.canMount(), "needs root and mount(8) to mount a small tmpfs");
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        try (Mounts.Tmpfs fs = Mounts.tmpfs(mnt, "64k")) {
            AtomicFile files = new AtomicFile(AtomicFile.REAL);
            Path f = mnt.resolve("vm.xml");
            files.write(f, "previous".getBytes());
            fs.fill();
            KvmtoolException e = assertThrows(KvmtoolException.class, () -> files.write(f, new byte[8192]));
            assertTrue(e.getMessage().endsWith("No space left on device"), e.getMessage());
            assertEquals("previous", Files.readString(f));
            fs.unfill();
            fs.remountReadOnly();
            e = assertThrows(KvmtoolException.class, () -> files.write(f, "next".getBytes()));
            assertTrue(e.getMessage().endsWith("Read-only file system"), e.getMessage());
            assertEquals("previous", Files.readString(f));
            e = assertThrows(KvmtoolException.class, () -> files.delete(f));
            assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
            assertTrue(Files.exists(f));
        }
    }

    @Test
    void definitionStoreAndAutostartLinks() throws Exception {
        DefinitionStore store = new DefinitionStore(tmp.resolve("etc"), tmp.resolve("etc/autostart"), new AtomicFile(AtomicFile.REAL));
        store.write("vm", "<domain/>");
        store.setAutostart("vm", true);
        assertTrue(store.isAutostart("vm"));
        assertEquals(Path.of("../vm.xml"), Files.readSymbolicLink(tmp.resolve("etc/autostart/vm.xml")));
        assertEquals(java.util.Map.of("vm", "<domain/>"), store.loadAll((p, e) -> { throw new AssertionError(p); }));
        store.delete("vm");
        assertFalse(store.isAutostart("vm"));
        assertFalse(store.exists("vm"));
    }

    @Test
    void unreadableStatusFilesAreListedAndRefusedOnLoad() throws Exception {
        StatusStore store = new StatusStore(tmp, new AtomicFile(AtomicFile.REAL));
        Files.writeString(tmp.resolve("bad.status"), "name=bad\n");
        assertEquals(List.of(tmp.resolve("bad.status")), store.files());
        assertThrows(RuntimeException.class, () -> store.load(tmp.resolve("bad.status")));
    }

    /** A channel that accepts half of what it is given, then fails with ENOSPC. */
    static final class DelegatingChannel extends FileChannel {
        private final FileChannel d;
        private boolean wrote;

        DelegatingChannel(FileChannel d) {
            this.d = d;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (wrote) {
                throw new IOException("No space left on device");
            }
            wrote = true;
            ByteBuffer half = src.duplicate();
            half.limit(src.position() + Math.max(1, src.remaining() / 2));
            int n = d.write(half);
            src.position(src.position() + n);
            return n;
        }

        @Override public int read(ByteBuffer dst) throws IOException { return d.read(dst); }
        @Override public long read(ByteBuffer[] dsts, int o, int l) throws IOException { return d.read(dsts, o, l); }
        @Override public long write(ByteBuffer[] srcs, int o, int l) throws IOException { throw new IOException("No space left on device"); }
        @Override public long position() throws IOException { return d.position(); }
        @Override public FileChannel position(long p) throws IOException { d.position(p); return this; }
        @Override public long size() throws IOException { return d.size(); }
        @Override public FileChannel truncate(long s) throws IOException { d.truncate(s); return this; }
        @Override public void force(boolean m) throws IOException { d.force(m); }
        @Override public long transferTo(long p, long c, java.nio.channels.WritableByteChannel t) throws IOException { return d.transferTo(p, c, t); }
        @Override public long transferFrom(java.nio.channels.ReadableByteChannel s, long p, long c) throws IOException { return d.transferFrom(s, p, c); }
        @Override public int read(ByteBuffer dst, long p) throws IOException { return d.read(dst, p); }
        @Override public int write(ByteBuffer src, long p) throws IOException { throw new IOException("No space left on device"); }
        @Override public java.nio.MappedByteBuffer map(MapMode m, long p, long s) throws IOException { return d.map(m, p, s); }
        @Override public java.nio.channels.FileLock lock(long p, long s, boolean sh) throws IOException { return d.lock(p, s, sh); }
        @Override public java.nio.channels.FileLock tryLock(long p, long s, boolean sh) throws IOException { return d.tryLock(p, s, sh); }
        @Override protected void implCloseChannel() throws IOException { d.close(); }
    }

}
