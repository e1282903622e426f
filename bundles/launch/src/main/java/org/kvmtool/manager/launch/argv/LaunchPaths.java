package org.kvmtool.manager.launch.argv;

import java.util.Objects;

/**
 * Where lkvm is and where it will live.
 *
 * @param binary  the configured lkvm (a path, or a name looked up on PATH); a domain's {@code <emulator>} wins
 * @param homeDir the {@code HOME} lkvm gets, canonical (no symlinks): its IPC socket is
 *                {@code homeDir/.lkvm/NAME.sock}
 */
public record LaunchPaths(String binary, String homeDir) {
    public LaunchPaths {
        Objects.requireNonNull(binary, "binary");
        Objects.requireNonNull(homeDir, "homeDir");
    }
}
