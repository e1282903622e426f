package org.kvmtool.manager.launch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExecHelperTest {
    @TempDir
    Path dir;

    @Test
    void installsAnExecutableCopyAndRepairsAStaleOne() throws Exception {
        Path helper = ExecHelper.install(dir.resolve("bin"));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(helper)));
        long size = Files.size(helper);
        assertTrue(size > 1000);
        Files.writeString(helper, "stale");
        assertEquals(helper, ExecHelper.install(dir.resolve("bin")));
        assertEquals(size, Files.size(helper));
        try (var s = Files.list(dir.resolve("bin"))) {
            assertEquals(1, s.count(), "no temporary files left");
        }
    }
}
