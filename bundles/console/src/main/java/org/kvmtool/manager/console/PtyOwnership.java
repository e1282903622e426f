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
        OptionalInt index = ptsIndex(slavePath);
        if (index.isEmpty()) {
            return Optional.of(slavePath + " is not a /dev/pts slave");
        }
        Path proc = procRoot.resolve(Long.toString(pid));
        String stdin;
        String fdinfo;
        try {
            stdin = Files.readSymbolicLink(proc.resolve("fd/0")).toString();
            fdinfo = Files.readString(proc.resolve("fdinfo/0"));
        } catch (NoSuchFileException e) {
            return Optional.of("process " + pid + " does not exist (or has no stdin)");
        } catch (IOException | SecurityException e) {
            return Optional.of("cannot inspect process " + pid + ": " + e);
        }
        if (!isPtmx(stdin)) {
            return Optional.of("the stdin of process " + pid + " is " + stdin + ", not a pty master");
        }
        OptionalInt held = ttyIndex(fdinfo);
        if (held.isEmpty()) {
            return Optional.of("the kernel does not report which pty process " + pid + " holds");
        }
        if (held.getAsInt() != index.getAsInt()) {
            return Optional.of("process " + pid + " holds /dev/pts/" + held.getAsInt() + ", not " + slavePath);
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
