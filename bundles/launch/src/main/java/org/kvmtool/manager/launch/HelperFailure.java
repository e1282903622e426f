package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

import java.util.function.IntFunction;

/**
 * Turns the exec helper's one-line report ("STEP\tERRNO\tDETAIL") into the error a user reads. Pure:
 * errno texts come from the given function.
 */
final class HelperFailure {
    private HelperFailure() {
    }

    static KvmtoolException toException(String line, int uid, int gid, IntFunction<String> strerror) {
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
            default -> "the exec helper failed at " + step + " " + detail + ": " + why;
        };
        return new KvmtoolException(ErrorCode.SYSTEM_ERROR, message);
    }
}
