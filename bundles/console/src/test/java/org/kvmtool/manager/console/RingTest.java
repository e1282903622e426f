package org.kvmtool.manager.console;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RingTest {
    @Test
    void keepsTheLatestBytesAcrossWrapAround() {
        Random random = new Random(7);
        Ring ring = new Ring(100);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int i = 0; i < 500; i++) {
            byte[] chunk = new byte[random.nextInt(250)]; // smaller and larger than the ring
            random.nextBytes(chunk);
            ring.append(chunk);
            all.writeBytes(chunk);
            byte[] everything = all.toByteArray();
            for (int max : new int[] {0, 1, 37, 100, 1000}) {
                int len = Math.min(max, Math.min(100, everything.length));
                assertArrayEquals(Arrays.copyOfRange(everything, everything.length - len, everything.length),
                        ring.tail(max), "after " + everything.length + " bytes, tail " + max);
            }
        }
    }

    @Test
    void emptyAndInvalid() {
        assertEquals(0, new Ring(8).tail(8).length);
        assertEquals(0, new Ring(8).tail(-1).length);
        assertThrows(IllegalArgumentException.class, () -> new Ring(0));
    }
}
