package org.kvmtool.manager.launch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.HypervisorInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The probe runs real scripts standing in for lkvm: found, broken, hanging, missing. */
class HypervisorProbeTest {
    @TempDir
    Path dir;

    private Path script(String name, String body) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    @Test
    void findsLkvmOnTheSearchPathAndReadsItsVersion() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path lkvm = Files.writeString(bin.resolve("lkvm"),
                "#!/bin/sh\n[ \"$1\" = version ] && echo 'kvm tool 3.18.0' || exit 2\n");
        Files.setPosixFilePermissions(lkvm, PosixFilePermissions.fromString("rwxr-xr-x"));
        HypervisorInfo info = new HypervisorProbe("/nonexistent:" + bin, 5_000).probe(null);
        assertEquals(new HypervisorInfo(lkvm.toString(), true, "3.18.0", null), info);
    }

    @Test
    void aConfiguredBinaryWinsAndIsNotSearchedElsewhere() throws Exception {
        HypervisorInfo info = new HypervisorProbe("/usr/bin", 5_000).probe(dir + "/missing-lkvm");
        assertFalse(info.available());
        assertEquals("configured binary " + dir + "/missing-lkvm not found", info.reason());
    }

    @Test
    void aVersionCommandThatFailsIsTheReason() throws Exception {
        Path lkvm = script("lkvm", "echo 'Fatal: Your CPU does not support hardware virtualization' >&2; exit 1");
        HypervisorInfo info = new HypervisorProbe("", 5_000).probe(lkvm.toString());
        assertFalse(info.available());
        assertEquals("`" + lkvm + " version` exited 1: Fatal: Your CPU does not support hardware virtualization",
                info.reason());
    }

    @Test
    void aHangingVersionCommandTimesOut() throws Exception {
        Path lkvm = script("lkvm", "exec sleep 30");
        long t0 = System.nanoTime();
        HypervisorInfo info = new HypervisorProbe("", 200).probe(lkvm.toString());
        assertTrue((System.nanoTime() - t0) / 1_000_000 < 3_000);
        assertFalse(info.available());
        assertEquals("`" + lkvm + " version` did not finish within 200 ms", info.reason());
    }

    @Test
    void aNonExecutableFileIsTheReason() throws Exception {
        Path lkvm = Files.writeString(dir.resolve("lkvm"), "x");
        HypervisorInfo info = new HypervisorProbe("", 1_000).probe(lkvm.toString());
        assertFalse(info.available());
        assertEquals(lkvm + " is not executable", info.reason());
    }

    @Test
    void theRealLkvmWhenGiven() {
        assumeTrue(Fixtures.realLkvm().isPresent(), "KVMTOOL_LKVM is not set");
        HypervisorInfo info = new HypervisorProbe("", 5_000).probe(Fixtures.realLkvm().get().toString());
        assertTrue(info.available(), info.reason());
        assertTrue(info.version().matches("\\d+\\.\\d+.*"), info.version());
    }
}
