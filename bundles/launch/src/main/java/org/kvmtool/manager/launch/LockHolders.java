package org.kvmtool.manager.launch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Who holds the flock of an image that a start could not lock: the kernel's lock table (/proc/locks: kind, pid and
 * device:inode of every lock) gives the pid, its argv ({@code lkvm run ... --name NAME}) the domain. Read only on
 * that failure. The root is a parameter so that tests can use fixture trees.
 */
final class LockHolders {
    /**
     * One holder of a lock on the image.
     *
     * @param domain the domain of an lkvm holder, else null
     * @param comm   the process's name when it is not an lkvm of a domain
     */
    record Holder(long pid, boolean writes, String domain, String comm) {
        String who() {
            return domain != null ? "domain '" + domain + "' (pid " + pid + ")" : "process " + pid + " (" + comm + ")";
        }
    }

    private final Path proc;

    LockHolders(Path proc) {
        this.proc = proc;
    }

    /** The processes that hold a flock on {@code path}; empty when it cannot be told (gone, not visible here). */
    List<Holder> of(String path) {
        try {
            long dev = (Long) Files.getAttribute(Path.of(path), "unix:dev");
            long ino = (Long) Files.getAttribute(Path.of(path), "unix:ino");
            List<Holder> out = new ArrayList<>();
            for (long[] lock : parse(Files.readString(proc.resolve("locks")), major(dev), minor(dev), ino)) {
                out.add(describe(lock[0], lock[1] == 1));
            }
            return out;
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    private Holder describe(long pid, boolean writes) {
        Path dir = proc.resolve(Long.toString(pid));
        String domain = null;
        String comm = "?";
        try {
            domain = domainOf(ProcFs.splitNul(Files.readAllBytes(dir.resolve("cmdline"))));
            comm = Files.readString(dir.resolve("comm"), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            // ended meanwhile: its pid is all there is to say
        }
        return new Holder(pid, writes, domain, comm);
    }

    /** NAME of {@code lkvm run ... --name NAME ...} (the form the argv builder writes), else null. */
    static String domainOf(List<String> argv) {
        int i = argv.indexOf("--name");
        return argv.size() > 1 && argv.get(1).equals("run") && i > 1 && i + 1 < argv.size() ? argv.get(i + 1) : null;
    }

    /**
     * The {pid, 1 if WRITE else 0} of each FLOCK held (not waited for: "->") on that device and inode, from the
     * text of /proc/locks: "1: FLOCK  ADVISORY  WRITE 4242 fe:01:1234 0 EOF" (major and minor in hex).
     */
    static List<long[]> parse(String locks, int major, int minor, long ino) {
        List<long[]> out = new ArrayList<>();
        for (String line : locks.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 6 || !f[1].equals("FLOCK")) {
                continue; // a waiter ("->" in the second field), a POSIX or OFD lock, or no lock
            }
            String[] id = f[5].split(":");
            try {
                if (id.length == 3 && Integer.parseInt(id[0], 16) == major && Integer.parseInt(id[1], 16) == minor
                        && Long.parseLong(id[2]) == ino) {
                    out.add(new long[] {Long.parseLong(f[4]), f[3].equals("WRITE") ? 1 : 0});
                }
            } catch (NumberFormatException e) {
                // a line of another shape: not ours
            }
        }
        return out;
    }

    /** glibc's st_dev encoding (gnu_dev_major/minor). */
    static int major(long dev) {
        return (int) (((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL));
    }

    static int minor(long dev) {
        return (int) ((dev & 0xff) | ((dev >>> 12) & ~0xffL));
    }
}
