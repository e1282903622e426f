package org.kvmtool.manager.launch.argv;

import java.util.Objects;

/**
 * Where lkvm is and where it will live.
 *
 * @param binary  the configured lkvm (a path, or a name looked up on PATH); a domain's {@code <emulator>} wins
 * @param homeDir the {@code HOME} lkvm gets, canonical (no symlinks): its IPC socket is
 *                {@code homeDir/.lkvm/NAME.sock}
 * @param hugetlbfs the directory on a hugetlbfs that {@code --hugetlbfs} names; null: the host has none
 */
public record LaunchPaths(String binary, String homeDir, String hugetlbfs) {
    public LaunchPaths {
        Objects.requireNonNull(binary, "binary");
        Objects.requireNonNull(homeDir, "homeDir");
    }

    /** A host without hugetlbfs. */
    public LaunchPaths(String binary, String homeDir) {
        this(binary, homeDir, null);
    }
}
