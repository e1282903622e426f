package org.kvmtool.manager.launch;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Test-only: a pty whose master becomes lkvm's stdio and whose slave is drained into a string, as the
 * console service does in the product (so a chatty guest never blocks on a full pty).
 */
final class TestConsole implements AutoCloseable {
    interface PtyLib extends Library {
        int posix_openpt(int flags);

        int grantpt(int fd);

        int unlockpt(int fd);

        String ptsname(int fd);

        int tcgetattr(int fd, Pointer termios);

        void cfmakeraw(Pointer termios);

        int tcsetattr(int fd, int when, Pointer termios);

        int poll(Pointer fds, long nfds, int timeout);
    }

    private static final short POLLHUP = 0x10;

    private static final PtyLib PTY = Native.load("c", PtyLib.class);

    final int master;
    private final InputStream slave;
    private final java.io.OutputStream input;
    private final StringBuffer text = new StringBuffer();

    TestConsole() throws IOException {
        master = rawMaster();
        slave = new FileInputStream(PTY.ptsname(master));
        input = new java.io.FileOutputStream(PTY.ptsname(master));
        Thread t = new Thread(() -> {
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = slave.read(buf)) > 0; ) {
                    text.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException ended) {
                // closed
            }
        }, "test-console");
        t.setDaemon(true);
        t.start();
    }

    /** A pty master as the console service makes one: unlocked, raw, its slave not opened. */
    static int rawMaster() throws IOException {
        int master = PTY.posix_openpt(Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC);
        if (master < 0 || PTY.grantpt(master) != 0 || PTY.unlockpt(master) != 0) {
            throw new IOException("cannot create a pty");
        }
        try (Memory termios = new Memory(256)) {
            // raw before lkvm starts, as the console service does: no echo of lkvm's output back into it
            if (PTY.tcgetattr(master, termios) != 0) {
                throw new IOException("tcgetattr");
            }
            PTY.cfmakeraw(termios);
            PTY.tcsetattr(master, 0, termios);
        }
        return master;
    }

    /** True if the pty of {@code master} is hung up: no slave is open any more (POLLHUP, asked without waiting). */
    static boolean hungUp(int master) {
        try (Memory pfd = new Memory(8)) {
            pfd.setInt(0, master);
            pfd.setShort(4, (short) 0);
            pfd.setShort(6, (short) 0);
            if (PTY.poll(pfd, 1, 0) < 0) {
                throw new IllegalStateException("poll failed: errno " + Native.getLastError());
            }
            return (pfd.getShort(6) & POLLHUP) != 0;
        }
    }

    static String slavePath(int master) {
        return PTY.ptsname(master);
    }

    /** Types into the guest's console. */
    void type(byte[] bytes) {
        try {
            input.write(bytes);
            input.flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    String text() {
        return text.toString();
    }

    @Override
    public void close() throws IOException {
        Fixtures.POSIX.close(master);
        input.close();
        slave.close();
    }
}
