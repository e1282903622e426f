package org.kvmtool.manager.console;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a pty is the one a process holds as its stdio: its fd 0 is a pty master ({@code /dev/ptmx}, or
 * {@code /dev/pts/ptmx} where devpts is mounted per container) whose {@code tty-index} in
 * {@code /proc/PID/fdinfo/0} is N of the slave {@code /dev/pts/N}. Protects a restarted manager from
 * draining a pts number that now belongs to somebody else.
 */
final class PtyOwnership {
    private static final Pattern PTS = Pattern.compile(".*/pts/(\\d+)");
    private static final Pattern TTY_INDEX = Pattern.compile("(?m)^tty-index:\\s*(\\d+)\\s*$");

    private final Path procRoot;

    PtyOwnership(Path procRoot) {
        this.procRoot = procRoot;
    }

    /** Empty when {@code pid} holds the master of {@code slavePath} as fd 0, else why not (one line). */
    Optional<String> mismatch(String slavePath, long pid) {
        return mismatch(slavePath, Long.toString(pid), 0, "process " + pid);
    }

    /** Empty when descriptor {@code fd} of this process is the master of {@code slavePath}. */
    Optional<String> mismatchOfOwn(String slavePath, int fd) {
        return mismatch(slavePath, "self", fd, "this process's descriptor " + fd);
    }

    private Optional<String> mismatch(String slavePath, String procEntry, int fd, String who) {
        OptionalInt index = ptsIndex(slavePath);
        if (index.isEmpty()) {
            return Optional.of(slavePath + " is not a /dev/pts slave");
        }
        Path proc = procRoot.resolve(procEntry);
        String target;
        String fdinfo;
        try {
            target = Files.readSymbolicLink(proc.resolve("fd/" + fd)).toString();
            fdinfo = Files.readString(proc.resolve("fdinfo/" + fd));
        } catch (NoSuchFileException e) {
            return Optional.of(who + " does not exist (or has no descriptor " + fd + ")");
        } catch (IOException | SecurityException e) {
            return Optional.of("cannot inspect " + who + ": " + e);
        }
        if (!isPtmx(target)) {
            return Optional.of("descriptor " + fd + " of " + who + " is " + target + ", not a pty master");
        }
        OptionalInt held = ttyIndex(fdinfo);
        if (held.isEmpty()) {
            return Optional.of("the kernel does not report which pty " + who + " holds");
        }
        if (held.getAsInt() != index.getAsInt()) {
            return Optional.of(who + " holds /dev/pts/" + held.getAsInt() + ", not " + slavePath);
        }
        return Optional.empty();
    }

    static OptionalInt ptsIndex(String slavePath) {
        Matcher m = PTS.matcher(slavePath);
        return m.matches() ? parse(m.group(1)) : OptionalInt.empty();
    }

    static OptionalInt ttyIndex(String fdinfo) {
        Matcher m = TTY_INDEX.matcher(fdinfo);
        return m.find() ? parse(m.group(1)) : OptionalInt.empty();
    }

    static boolean isPtmx(String linkTarget) {
        return linkTarget.equals("/dev/ptmx") || linkTarget.endsWith("/pts/ptmx");
    }

    private static OptionalInt parse(String digits) {
        try {
            return OptionalInt.of(Integer.parseInt(digits));
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }
}
