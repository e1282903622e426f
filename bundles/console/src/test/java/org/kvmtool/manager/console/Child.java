package org.kvmtool.manager.console;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Test-only spawner: a child process whose stdin, stdout and stderr are one descriptor of this JVM (a pty
 * master), in its own session, with no other inherited descriptor, as the launch service starts lkvm.
 * The product's spawner lives in the launch bundle; this is just enough to hold a master in a process.
 */
final class Child implements AutoCloseable {
    interface C extends Library {
        C INSTANCE = Native.load("c", C.class);

        int posix_spawn(IntByReference pid, String path, Pointer fileActions, Pointer attr, String[] argv, String[] envp);

        int posix_spawn_file_actions_init(Pointer fileActions);

        int posix_spawn_file_actions_adddup2(Pointer fileActions, int fd, int newfd);

        int posix_spawn_file_actions_addclosefrom_np(Pointer fileActions, int from);

        int posix_spawn_file_actions_destroy(Pointer fileActions);

        int posix_spawnattr_init(Pointer attr);

        int posix_spawnattr_setflags(Pointer attr, short flags);

        int posix_spawnattr_destroy(Pointer attr);

        int waitpid(int pid, int[] status, int options);

        int kill(int pid, int sig);
    }

    private static final short POSIX_SPAWN_SETSID = 0x80;
    private static final int WNOHANG = 1;

    private final int pid;
    private Integer status;

    private Child(int pid) {
        this.pid = pid;
    }

    static Child spawn(int stdioFd, List<String> argv, Map<String, String> env) {
        Memory actions = new Memory(512);
        Memory attr = new Memory(1024);
        check("file_actions_init", C.INSTANCE.posix_spawn_file_actions_init(actions));
        check("spawnattr_init", C.INSTANCE.posix_spawnattr_init(attr));
        try {
            for (int target = 0; target <= 2; target++) {
                check("adddup2", C.INSTANCE.posix_spawn_file_actions_adddup2(actions, stdioFd, target));
            }
            check("addclosefrom_np", C.INSTANCE.posix_spawn_file_actions_addclosefrom_np(actions, 3));
            check("setflags", C.INSTANCE.posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSID));
            IntByReference pid = new IntByReference();
            String[] envp = env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toArray(String[]::new);
            check("posix_spawn " + argv, C.INSTANCE.posix_spawn(pid, argv.get(0), actions, attr,
                    argv.toArray(String[]::new), envp));
            return new Child(pid.getValue());
        } finally {
            C.INSTANCE.posix_spawn_file_actions_destroy(actions);
            C.INSTANCE.posix_spawnattr_destroy(attr);
        }
    }

    private static void check(String what, int err) {
        if (err != 0) {
            throw new IllegalStateException(what + " failed: error " + err);
        }
    }

    int pid() {
        return pid;
    }

    /** The exit status (code, or 128 + signal), once the process ended within {@code timeout}. */
    synchronized OptionalInt waitFor(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (status == null) {
            int[] raw = new int[1];
            int rc = C.INSTANCE.waitpid(pid, raw, WNOHANG);
            if (rc == pid) {
                int s = raw[0];
                status = (s & 0x7f) == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
            } else if (rc < 0) {
                throw new IllegalStateException("waitpid " + pid + " failed");
            } else if (System.nanoTime() > deadline) {
                return OptionalInt.empty();
            } else {
                Thread.sleep(5);
            }
        }
        return OptionalInt.of(status);
    }

    boolean isAlive() throws InterruptedException {
        return waitFor(Duration.ZERO).isEmpty();
    }

    void signal(int sig) {
        C.INSTANCE.kill(pid, sig);
    }

    @Override
    public void close() throws InterruptedException {
        if (isAlive()) {
            signal(9);
            waitFor(Duration.ofSeconds(10));
        }
    }
}
