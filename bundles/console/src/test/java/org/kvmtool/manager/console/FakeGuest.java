package org.kvmtool.manager.console;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A stand-in guest run as a child process with a pty master as its stdio (as lkvm runs): it behaves
 * like the test guest of kvmtool-facts.md (banner, echo, {@code q} = poweroff and exit 0) and can flood.
 * Options: {@code --ready FILE} (created once the banner is written), {@code --flood N} (on input
 * {@code f}: N bytes of {@link #payload}, framed), {@code --report FILE} (the flood's duration in ns),
 * {@code --deaf} (never reads its input).
 */
public final class FakeGuest {
    static final String BANNER = "GUEST READY\r\n";
    static final String POWEROFF = "GUEST POWEROFF\r\n";
    static final String FLOOD_BEGIN = "FLOOD BEGIN\r\n";
    static final String FLOOD_END = "FLOOD END\r\n";

    private FakeGuest() {
    }

    public static void main(String[] args) throws Exception {
        Path ready = null;
        Path report = null;
        int flood = 0;
        boolean deaf = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--ready" -> ready = Path.of(args[++i]);
                case "--report" -> report = Path.of(args[++i]);
                case "--flood" -> flood = Integer.parseInt(args[++i]);
                case "--deaf" -> deaf = true;
                default -> throw new IllegalArgumentException(args[i]);
            }
        }
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        out.write(ascii(BANNER));
        if (ready != null) {
            Files.createFile(ready);
        }
        if (deaf) {
            Thread.sleep(Long.MAX_VALUE);
        }
        InputStream in = new FileInputStream(FileDescriptor.in);
        while (true) {
            int b;
            try {
                b = in.read();
            } catch (IOException e) { // EIO: nobody holds the slave right now. lkvm keeps running too.
                Thread.sleep(10);
                continue;
            }
            if (b < 0) {
                Thread.sleep(10);
            } else if (b == 'q') {
                out.write(ascii(POWEROFF));
                Runtime.getRuntime().halt(0);
            } else if (b == 'f' && flood > 0) {
                long t0 = System.nanoTime();
                out.write(ascii(FLOOD_BEGIN));
                Lines lines = new Lines();
                byte[] chunk = new byte[65536];
                for (int left = flood; left > 0; left -= chunk.length) {
                    int len = Math.min(chunk.length, left);
                    lines.fill(chunk, len);
                    out.write(chunk, 0, len);
                }
                out.write(ascii(FLOOD_END));
                long took = System.nanoTime() - t0;
                if (report != null) {
                    Files.writeString(report, took + "\n");
                }
            } else {
                out.write(b);
            }
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** {@code n} bytes of numbered lines "00000000\r\n00000001\r\n...": any loss, duplicate or reordering shows. */
    static byte[] payload(int n) {
        byte[] out = new byte[n];
        new Lines().fill(out, n);
        return out;
    }

    /** The numbered lines as a stream, generated as fast as a pty takes them. */
    static final class Lines {
        private final byte[] line = ascii("00000000\r\n");
        private int at;

        void fill(byte[] buf, int len) {
            for (int i = 0; i < len; i++) {
                buf[i] = line[at++];
                if (at == line.length) {
                    at = 0;
                    for (int d = 7; d >= 0 && ++line[d] > '9'; d--) {
                        line[d] = '0';
                    }
                }
            }
        }
    }

    /** Everything the guest writes for a flood of {@code n} bytes, banner first. */
    static byte[] floodStream(int n) {
        byte[] payload = payload(n);
        byte[] head = ascii(BANNER + FLOOD_BEGIN);
        byte[] tail = ascii(FLOOD_END);
        byte[] all = new byte[head.length + n + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(payload, 0, all, head.length, n);
        System.arraycopy(tail, 0, all, head.length + n, tail.length);
        return all;
    }
}
