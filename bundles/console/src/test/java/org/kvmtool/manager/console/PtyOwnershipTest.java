package org.kvmtool.manager.console;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The /proc reading against fixture trees (the real-process cases are in ConsoleServiceTest). */
class PtyOwnershipTest {
    @TempDir
    Path proc;

    void process(long pid, String stdin, String fdinfo) throws Exception {
        Path dir = proc.resolve(Long.toString(pid));
        Files.createDirectories(dir.resolve("fd"));
        Files.createDirectories(dir.resolve("fdinfo"));
        Files.createSymbolicLink(dir.resolve("fd/0"), Path.of(stdin));
        Files.writeString(dir.resolve("fdinfo/0"), fdinfo);
    }

    static String fdinfo(int ttyIndex) {
        return "pos:\t0\nflags:\t02100002\nmnt_id:\t24\nino:\t91\ntty-index:\t" + ttyIndex + "\n";
    }

    @Test
    void acceptsTheHolderOfThatMaster() throws Exception {
        process(10, "/dev/ptmx", fdinfo(3));
        process(11, "/dev/pts/ptmx", fdinfo(12)); // devpts mounted with its own ptmx (containers)
        PtyOwnership o = new PtyOwnership(proc);
        assertEquals(Optional.empty(), o.mismatch("/dev/pts/3", 10));
        assertEquals(Optional.empty(), o.mismatch("/dev/pts/12", 11));
    }

    @Test
    void refusesAnythingElse() throws Exception {
        process(20, "/dev/ptmx", fdinfo(4));
        process(21, "/dev/null", "pos:\t0\nflags:\t0100002\n");
        process(22, "/dev/ptmx", "pos:\t0\nflags:\t02100002\n"); // a kernel without tty-index
        PtyOwnership o = new PtyOwnership(proc);
        assertEquals(Optional.of("process 20 holds /dev/pts/4, not /dev/pts/3"), o.mismatch("/dev/pts/3", 20));
        assertEquals(Optional.of("descriptor 0 of process 21 is /dev/null, not a pty master"), o.mismatch("/dev/pts/3", 21));
        assertEquals(Optional.of("the kernel does not report which pty process 22 holds"), o.mismatch("/dev/pts/3", 22));
        assertEquals(Optional.of("process 23 does not exist (or has no descriptor 0)"), o.mismatch("/dev/pts/3", 23));
        assertEquals(Optional.of("/dev/tty1 is not a /dev/pts slave"), o.mismatch("/dev/tty1", 20));
    }

    @Test
    void parsing() {
        assertEquals(OptionalInt.of(17), PtyOwnership.ptsIndex("/dev/pts/17"));
        assertEquals(OptionalInt.empty(), PtyOwnership.ptsIndex("/dev/pts/ptmx"));
        assertEquals(OptionalInt.empty(), PtyOwnership.ptsIndex("/dev/pts/99999999999"));
        assertEquals(OptionalInt.of(5), PtyOwnership.ttyIndex(fdinfo(5)));
        assertEquals(OptionalInt.empty(), PtyOwnership.ttyIndex("tty-index-x:\t5\n"));
        assertTrue(PtyOwnership.isPtmx("/dev/ptmx"));
        assertFalse(PtyOwnership.isPtmx("/dev/pts/3"));
    }
}
