package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.ProcessIdentity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What /proc says about a pid. The root is a parameter so that tests can use fixture trees. */
final class ProcFs {
    /** One reading of /proc/PID: state letter (R, S, Z...), start time in clock ticks, argv. */
    record Snapshot(char state, long startTime, List<String> cmdline) {
        boolean zombie() {
            return state == 'Z' || state == 'X';
        }
    }

    private final Path root;

    ProcFs(Path root) {
        this.root = root;
    }

    /** Empty when there is no such process. */
    Optional<Snapshot> read(long pid) {
        Path dir = root.resolve(Long.toString(pid));
        try {
            String stat = Files.readString(dir.resolve("stat"), StandardCharsets.UTF_8);
            byte[] cmdline;
            try {
                cmdline = Files.readAllBytes(dir.resolve("cmdline"));
            } catch (IOException e) {
                // ESRCH from an exiting process whose memory is already gone: it has no cmdline any more,
                // like a zombie; its stat (start time) still identifies it
                cmdline = new byte[0];
            }
            return Optional.of(parse(stat, cmdline));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            // ESRCH while reading: the process vanished between the two reads
            return Optional.empty();
        }
    }

    /** True if one of the process's threads is named {@code comm} (/proc/PID/task/TID/comm). */
    boolean hasThread(long pid, String comm) {
        try (var tasks = Files.newDirectoryStream(root.resolve(Long.toString(pid)).resolve("task"))) {
            for (Path task : tasks) {
                try {
                    if (new String(Files.readAllBytes(task.resolve("comm")), StandardCharsets.UTF_8).trim().equals(comm)) {
                        return true;
                    }
                } catch (IOException e) {
                    // the thread ended while we looked
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    Optional<ProcessIdentity> identity(long pid) {
        return read(pid).map(s -> new ProcessIdentity(pid, s.startTime(), s.cmdline()));
    }

    /** True if the pid is a live (not zombie) process with the recorded start time and argv. */
    boolean matches(ProcessIdentity recorded) {
        return read(recorded.pid())
                .filter(s -> !s.zombie() && s.startTime() == recorded.startTime()
                        && s.cmdline().equals(recorded.cmdline()))
                .isPresent();
    }

    /**
     * Parses /proc/PID/stat (comm may hold spaces and parentheses: fields count from the last ')')
     * and /proc/PID/cmdline (NUL-separated, NUL-terminated).
     */
    static Snapshot parse(String stat, byte[] cmdline) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            throw new IllegalArgumentException("malformed stat: " + stat);
        }
        String[] fields = stat.substring(close + 2).trim().split(" ");
        // fields[0] is field 3 (state); start time is field 22
        char state = fields[0].charAt(0);
        long startTime = Long.parseLong(fields[22 - 3]);
        return new Snapshot(state, startTime, splitNul(cmdline));
    }

    static List<String> splitNul(byte[] bytes) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                out.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (start < bytes.length) {
            out.add(new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8));
        }
        return out;
    }
}
