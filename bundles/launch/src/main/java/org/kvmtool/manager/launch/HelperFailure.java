package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * Turns the exec helper's one-line report ("STEP\tERRNO\tDETAIL") into the error a user reads. Pure:
 * errno texts come from the given function.
 */
final class HelperFailure {
    private HelperFailure() {
    }

    static KvmtoolException toException(String line, int uid, int gid, IntFunction<String> strerror) {
        return toException(line, uid, gid, strerror, path -> List.of());
    }

    /** As above; {@code holders} tells who holds the lock of an image that could not be locked. */
    static KvmtoolException toException(String line, int uid, int gid, IntFunction<String> strerror,
                                        Function<String, List<LockHolders.Holder>> holders) {
        String trimmed = line.endsWith("\n") ? line.substring(0, line.length() - 1) : line;
        String[] parts = trimmed.split("\t", 3);
        if (parts.length < 3) {
            return new KvmtoolException(ErrorCode.SYSTEM_ERROR, "the exec helper failed: " + line.strip());
        }
        String step = parts[0];
        int errno;
        try {
            errno = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            return new KvmtoolException(ErrorCode.SYSTEM_ERROR, "the exec helper failed: " + line.strip());
        }
        String detail = parts[2];
        String why = strerror.apply(errno);
        if (step.startsWith("lock-") && errno == Posix.EAGAIN) {
            int space = detail.indexOf(' '); // "LABEL PATH"
            return new KvmtoolException(ErrorCode.OPERATION_FAILED, inUse(detail,
                    holders.apply(detail.substring(space + 1)), step.equals("lock-ex")));
        }
        String message = switch (step) {
            case "exec" -> switch (errno) {
                case Posix.ENOENT -> "binary not found: " + detail;
                case Posix.EACCES -> "binary is not executable: " + detail;
                case Posix.ENOEXEC -> "not an executable file: " + detail;
                default -> "cannot execute " + detail + ": " + why;
            };
            case "cgroup" -> "cannot join cgroup " + detail + ": " + why;
            case "setgroups", "setgid", "setuid" -> "cannot run as uid " + uid + " gid " + gid + " (" + step + "): "
                    + (detail.isEmpty() ? why : detail);
            case "chdir" -> "cannot enter the home directory " + detail
                    + (uid >= 0 ? " as uid " + uid : "") + ": " + why;
            case "file" -> detail + ": " + why + (uid >= 0 && errno == Posix.EACCES ? " (for uid " + uid + ")" : "");
            case "lock-ex", "lock-sh" -> "cannot lock " + detail + ": " + why;
            default -> "the exec helper failed at " + step + " " + detail + ": " + why;
        };
        return new KvmtoolException(ErrorCode.SYSTEM_ERROR, message);
    }

    /** "disk /x is in use by domain 'a' (pid 7), which writes it: a second writer would corrupt it". */
    static String inUse(String what, List<LockHolders.Holder> holders, boolean toWrite) {
        List<LockHolders.Holder> writers = holders.stream().filter(LockHolders.Holder::writes).toList();
        // a writer is what stops any start; readers stop only a writer
        List<LockHolders.Holder> blocking = writers.isEmpty() ? holders : writers;
        if (blocking.isEmpty()) {
            return what + " is in use: a process not visible from here holds its lock";
        }
        boolean writes = !writers.isEmpty();
        String who = String.join(", ", blocking.stream().map(LockHolders.Holder::who).toList());
        return what + " is in use by " + who + (writes ? ", which writes it: " : ", which reads it: ")
                + (toWrite ? (writes ? "a second writer would corrupt it" : "it cannot be written while another domain reads it")
                        : "it cannot be read while another domain writes it");
    }
}
