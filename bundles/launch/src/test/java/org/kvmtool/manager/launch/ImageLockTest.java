package org.kvmtool.manager.launch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.ImageLock;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.SpawnRequest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Image locks for real: the exec helper takes a flock on a descriptor that the program keeps across exec, so
 * the lock is the program's for exactly its life. The lkvm look-alike ({@code ipc-answerer run --name NAME})
 * plays lkvm, so a refusal can name the holder's domain.
 */
class ImageLockTest {
    private static final String ANSWERER = System.getProperty("launch.test.answerer", "");

    @TempDir
    Path home;
    Path image;

    private PosixProcessSpawner spawner;
    private PidfdExitWatcher reaper;
    private final List<ProcessIdentity> started = new ArrayList<>();
    private final List<Integer> fds = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(Files.isExecutable(Path.of(ANSWERER)), "the lkvm look-alike is not built: " + ANSWERER);
        spawner = Fixtures.spawner();
        reaper = new PidfdExitWatcher();
        image = Files.write(home.resolve("disk one.img"), new byte[4096]);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (ProcessIdentity p : started) {
            Fixtures.killQuietly(p);
            Fixtures.awaitGone(p.pid());
        }
        if (reaper != null) {
            reaper.close();
        }
        fds.forEach(Fixtures.POSIX::close);
    }

    private ProcessIdentity lkvm(String name, boolean exclusive) throws Exception {
        int fd = Fixtures.devNull();
        fds.add(fd);
        ProcessIdentity id = spawner.spawn(new SpawnRequest(List.of(ANSWERER, "run", "--name", name), home.toString(), fd,
                List.of(), -1, -1, List.of(), List.of(new ImageLock("disk", image.toString(), exclusive))));
        started.add(id);
        reaper.watch(id, home.resolve(".lkvm/" + name + ".sock").toString(), info -> { });
        return id;
    }

    /** The kind (READ or WRITE) of each flock on the image, by the pid that holds it, from the kernel's table. */
    private List<String> flocks() throws IOException {
        long ino = (Long) Files.getAttribute(image, "unix:ino");
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 5 && f[1].equals("FLOCK") && f[5].endsWith(":" + ino)) {
                out.add(f[4] + " " + f[3]);
            }
        }
        out.sort(null);
        return out;
    }

    @Test
    void aWriterHoldsItsLockAcrossExecAndASecondStartIsRefusedNamingIt() throws Exception {
        ProcessIdentity a = lkvm("vmA", true);
        assertEquals(List.of(ANSWERER, "run", "--name", "vmA"), a.cmdline(), "the lock was taken before exec, by the helper");
        assertEquals(List.of(a.pid() + " WRITE"), flocks(), "the program itself holds it");
        boolean open = false;
        for (String fd : Fixtures.fds(a.pid())) {
            open |= Files.readSymbolicLink(Path.of("/proc", "" + a.pid(), "fd", fd)).equals(image);
        }
        assertTrue(open, "the locked descriptor survived exec");

        KvmtoolException writer = assertThrows(KvmtoolException.class, () -> lkvm("vmB", true));
        assertEquals(ErrorCode.OPERATION_FAILED, writer.code());
        assertEquals("disk " + image + " is in use by domain 'vmA' (pid " + a.pid()
                + "), which writes it: a second writer would corrupt it", writer.getMessage());
        KvmtoolException reader = assertThrows(KvmtoolException.class, () -> lkvm("vmC", false));
        assertEquals("disk " + image + " is in use by domain 'vmA' (pid " + a.pid()
                + "), which writes it: it cannot be read while another domain writes it", reader.getMessage());
        assertEquals(List.of(), Fixtures.zombieChildren(), "the refused helpers were reaped");
        assertEquals(List.of(a.pid() + " WRITE"), flocks());

        spawner.signal(a, Posix.SIGKILL);
        assertTrue(Fixtures.awaitGone(a.pid()));
        assertEquals(List.of(), flocks(), "lkvm's end released its lock");
        ProcessIdentity b = lkvm("vmB", true);
        assertEquals(List.of(b.pid() + " WRITE"), flocks());
    }

    @Test
    void readersShareAndKeepAWriterOut() throws Exception {
        ProcessIdentity a = lkvm("vmA", false);
        ProcessIdentity b = lkvm("vmB", false);
        List<String> both = new ArrayList<>(List.of(a.pid() + " READ", b.pid() + " READ"));
        both.sort(null);
        assertEquals(both, flocks());
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> lkvm("vmC", true));
        assertTrue(e.getMessage().startsWith("disk " + image + " is in use by domain 'vm"), e.getMessage());
        assertTrue(e.getMessage().contains("'vmA' (pid " + a.pid() + ")") && e.getMessage().contains("'vmB' (pid " + b.pid() + ")")
                && e.getMessage().endsWith(", which reads it: it cannot be written while another domain reads it"), e.getMessage());
    }
}
