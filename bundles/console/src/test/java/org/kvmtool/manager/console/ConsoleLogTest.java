package org.kvmtool.manager.console;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class ConsoleLogTest {
    @TempDir
    Path tmp;

    /** Whatever the chunking, the files hold the stream cut at exact multiples of the limit. */
    @Test
    void rotatesAtExactlyTheLimit() throws Exception {
        Random random = new Random(3);
        for (int max : new int[] {1000, 4097, 64 * 1024, 100_000}) {
            Path file = tmp.resolve("r" + max + "/console.log");
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            try (ConsoleLog log = new ConsoleLog(file, max)) {
                for (int i = 0; i < 100; i++) {
                    byte[] chunk = new byte[random.nextInt(i % 50 == 0 ? 200_000 : 5000)];
                    random.nextBytes(chunk);
                    log.append(chunk);
                    all.writeBytes(chunk);
                    if (i % 7 == 0) {
                        log.flush();
                    }
                }
            }
            byte[] stream = all.toByteArray();
            int rotations = (stream.length - 1) / max;
            assertArrayEquals(Arrays.copyOfRange(stream, rotations * max, stream.length), Files.readAllBytes(file));
            assertArrayEquals(Arrays.copyOfRange(stream, (rotations - 1) * max, rotations * max),
                    Files.readAllBytes(file.resolveSibling("console.log.1")), "limit " + max);
        }
    }

    @Test
    void reopeningContinuesTheFileAndItsSize() throws Exception {
        Path file = tmp.resolve("c.log");
        try (ConsoleLog log = new ConsoleLog(file, 10)) {
            log.append("abcdef".getBytes());
        }
        try (ConsoleLog log = new ConsoleLog(file, 10)) {
            log.append("ghijkl".getBytes());
        }
        assertEquals("abcdefghij", Files.readString(file.resolveSibling("c.log.1")));
        assertEquals("kl", Files.readString(file));
    }

    @Test
    void withoutALimitItNeverRotates() throws Exception {
        Path file = tmp.resolve("u.log");
        try (ConsoleLog log = new ConsoleLog(file, 0)) {
            log.append(new byte[300_000]);
            log.append(new byte[5]);
        }
        assertEquals(300_005, Files.size(file));
        assertFalse(Files.exists(file.resolveSibling("u.log.1")));
    }
}
