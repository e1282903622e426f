package org.kvmtool.manager.core.fakes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.kvmtool.manager.api.ExitInfo;
import org.kvmtool.manager.api.ProcessIdentity;

/**
 * An in-memory host for the driver's unit tests: lkvm processes that run a tiny guest (prints a banner,
 * echoes input, powers off on 'q'), sockets as real files, ptys that buffer output until a reader opens
 * them. Everything the real services would observe is observable here, so tests assert outcomes.
 */
public final class FakeHost {
    /** How the next spawned lkvm behaves. */
    public enum Behaviour { NORMAL, FAIL_AT_START, HANG_BEFORE_READY, DIE_AFTER_READY }

    final AtomicLong pids = new AtomicLong(50_000);
    final AtomicLong ticks = new AtomicLong(1_000);
    public final Map<Long, Proc> processes = new ConcurrentHashMap<>();
    public final Map<String, Pty> ptys = new ConcurrentHashMap<>();
    public final List<String> violations = new CopyOnWriteArrayList<>();
    public final ExecutorService watcherThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fake-exit-watcher");
        t.setDaemon(true);
        return t;
    });
    volatile Behaviour next = Behaviour.NORMAL;
    volatile String failMessage = "  Fatal: Your CPU does not support hardware virtualization";
    /** Whether the guest honours SysRq b (a Linux guest does; a hung one does not). */
    public volatile boolean guestHonoursSysrq = true;

    public void nextStart(Behaviour b) {
        next = b;
    }

    public void nextStartFails(String message) {
        failMessage = message;
        next = Behaviour.FAIL_AT_START;
    }

    public List<Proc> alive() {
        List<Proc> out = new ArrayList<>();
        for (Proc p : processes.values()) {
            if (p.alive) {
                out.add(p);
            }
        }
        return out;
    }

    public List<Proc> aliveNamed(String name) {
        return alive().stream().filter(p -> p.name.equals(name)).toList();
    }

    /** A pseudo-terminal: bytes written by lkvm wait here until the slave is opened by a console. */
    public static final class Pty {
        public final int masterFd;
        public final String slavePath;
        final StringBuilder pending = new StringBuilder();
        volatile Consumer<String> reader;
        volatile boolean masterOpenInJvm = true;
        volatile long holderPid = -1;

        Pty(int masterFd, String slavePath) {
            this.masterFd = masterFd;
            this.slavePath = slavePath;
        }

        synchronized void write(String s) {
            if (reader != null) {
                reader.accept(s);
            } else {
                pending.append(s);
            }
        }

        synchronized void attach(Consumer<String> r) {
            reader = r;
            if (r != null && pending.length() > 0) {
                r.accept(pending.toString());
                pending.setLength(0);
            }
        }
    }

    /** One lkvm. */
    public final class Proc {
        public final ProcessIdentity identity;
        public final String name;
        public final Path socket;
        public final Pty pty;
        public final int uid;
        public final List<String> cgroupProcsFiles;
        public volatile boolean alive = true;
        public volatile boolean paused;
        volatile ExitInfo exit;
        final List<Consumer<ExitInfo>> watchers = new CopyOnWriteArrayList<>();
        final StringBuilder input = new StringBuilder();

        Proc(ProcessIdentity identity, String name, Path socket, Pty pty, int uid, List<String> procs) {
            this.identity = identity;
            this.name = name;
            this.socket = socket;
            this.pty = pty;
            this.uid = uid;
            this.cgroupProcsFiles = List.copyOf(procs);
        }

        public long pid() {
            return identity.pid();
        }

        public void listen() {
            try {
                Files.createDirectories(socket.getParent());
                Files.deleteIfExists(socket); // lkvm removes a ghost of the same name
                Files.createFile(socket); // empty, as a socket inode: no data blocks
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void print(String s) {
            if (pty != null) {
                pty.write(s);
            }
        }

        /** The guest reads a byte: echo, and 'q' powers off (i8042 reset: lkvm ends with exit 0). */
        public synchronized void type(String s) {
            for (char c : s.toCharArray()) {
                if (!alive || paused) { // a paused guest reads nothing (the UART keeps it; the fake drops it)
                    return;
                }
                print(String.valueOf(c));
                if (c == 'q') {
                    print("\r\nGUEST POWEROFF\r\n");
                    exitNormally();
                }
            }
        }

        /** lkvm's own normal end: socket removed, exit 0. */
        public void exitNormally() {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            print("  Info: KVM session ended normally.\r\n");
            end(new ExitInfo(identity, ExitInfo.Kind.NORMAL, 0, 0, false, System.nanoTime()));
        }

        /** Death by a signal: the socket stays behind (a ghost). */
        public void kill(int signal) {
            end(new ExitInfo(identity, ExitInfo.Kind.SIGNALED, -1, signal, false, System.nanoTime()));
        }

        public void failWith(int code) {
            end(new ExitInfo(identity, ExitInfo.Kind.FAILED, code, 0, false, System.nanoTime()));
        }

        synchronized void end(ExitInfo info) {
            if (!alive) {
                return;
            }
            alive = false;
            exit = info;
            pty.holderPid = -1;
            for (Consumer<ExitInfo> w : watchers) {
                watcherThread.execute(() -> w.accept(info));
            }
            watchers.clear();
        }

        synchronized void addWatcher(Consumer<ExitInfo> w) {
            if (!alive) {
                watcherThread.execute(() -> w.accept(exit));
            } else {
                watchers.add(w);
            }
        }

        synchronized void removeWatcher(Consumer<ExitInfo> w) {
            watchers.remove(w);
        }

        String banner() {
            return "  Info: # lkvm run -k guest -m 64 -c 1 --name " + name + "\r\nGUEST READY\r\n";
        }
    }

    /** The identity the next process will have: a pid and a start time taken, nothing running yet. */
    ProcessIdentity nextIdentity(List<String> argv) {
        return new ProcessIdentity(pids.incrementAndGet(), ticks.incrementAndGet(), argv);
    }

    Proc spawn(ProcessIdentity id, String home, Pty pty, int uid, List<String> procs) {
        List<String> argv = id.cmdline();
        String name = argv.get(argv.indexOf("--name") + 1);
        if (!aliveNamed(name).isEmpty()) {
            violations.add("a second lkvm for '" + name + "' spawned while pid " + aliveNamed(name).get(0).pid() + " lives");
        }
        long pid = id.pid();
        Proc p = new Proc(id, name, Path.of(home, ".lkvm", name + ".sock"), pty, uid, procs);
        pty.holderPid = pid;
        processes.put(pid, p);
        Behaviour b = next;
        next = Behaviour.NORMAL;
        switch (b) {
            case FAIL_AT_START -> {
                p.print("  Info: # lkvm run -k guest --name " + name + "\r\n" + failMessage + "\r\n");
                p.failWith(1);
            }
            case HANG_BEFORE_READY -> p.print("  Info: # lkvm run --name " + name + "\r\n");
            case DIE_AFTER_READY -> {
                p.listen();
                p.print(p.banner());
                watcherThread.execute(() -> {
                    try {
                        Thread.sleep(30);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    p.kill(11);
                });
            }
            default -> {
                p.listen();
                p.print(p.banner());
            }
        }
        return p;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
