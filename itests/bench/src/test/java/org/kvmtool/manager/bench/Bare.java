package org.kvmtool.manager.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The baseline: the same lkvm spawned bare (HOME set, stdio on pipes), no manager in the way. */
final class Bare implements AutoCloseable {
    final Process process;
    final Path home;
    final String name;
    final long t0;

    private Bare(Process process, Path home, String name, long t0) {
        this.process = process;
        this.home = home;
        this.name = name;
        this.t0 = t0;
    }

    static Bare spawn(Path lkvm, Path home, String name, Path kernel, int memoryMiB) throws IOException {
        Files.createDirectories(home);
        List<String> argv = new ArrayList<>(List.of(lkvm.toString(), "run", "--name", name, "-k", kernel.toString(),
                "-m", Integer.toString(memoryMiB), "-c", "1", "--nodefaults", "-n", "mode=none"));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("HOME", home.toString());
        pb.environment().put("PATH", "/usr/bin:/bin");
        long t0 = System.nanoTime();
        return new Bare(pb.start(), home, name, t0);
    }

    /** Nanoseconds from spawn until the IPC socket answers PID. */
    long awaitIpc(Duration timeout) throws Exception {
        Path socket = home.resolve(".lkvm").resolve(name + ".sock");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(socket) && pidAnswer(socket) > 0) {
                return System.nanoTime() - t0;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("bare lkvm socket did not answer within " + timeout);
    }

    /** Sends PID (type 7) on a fresh connection: the pid, or -1 when nobody answers yet. */
    static int pidAnswer(Path socket) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer req = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(7).putInt(0).flip();
            while (req.hasRemaining()) {
                ch.write(req);
            }
            ByteBuffer rep = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            while (rep.hasRemaining()) {
                if (ch.read(rep) < 0) {
                    return -1;
                }
            }
            return rep.flip().getInt();
        } catch (IOException notYet) {
            return -1;
        }
    }

    /** Nanoseconds from spawn until stdout showed text. */
    long awaitOutput(String text, Duration timeout) throws IOException {
        byte[] want = text.getBytes(StandardCharsets.US_ASCII);
        InputStream in = process.getInputStream();
        int matched = 0;
        int b;
        while ((b = in.read()) >= 0) {
            matched = b == want[matched] ? matched + 1 : (b == want[0] ? 1 : 0);
            if (matched == want.length) {
                return System.nanoTime() - t0;
            }
        }
        throw new AssertionError("bare lkvm ended before printing " + text);
    }

    /** Nanoseconds from spawn until n bytes came out of stdout in total. */
    long awaitBytes(long n, Duration timeout) throws IOException {
        InputStream in = process.getInputStream();
        byte[] buf = new byte[65536];
        long total = 0;
        int r;
        while (total < n && (r = in.read(buf)) >= 0) {
            total += r;
        }
        if (total < n) {
            throw new AssertionError("bare lkvm printed " + total + " of " + n + " bytes");
        }
        return System.nanoTime() - t0;
    }

    @Override
    public void close() throws Exception {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        Product.deleteTree(home);
    }
}
