package org.kvmtool.manager.rpc;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where virsh looks for a kvmtool daemon (libvirt-rpc-facts.md, section 8): system mode
 * /var/run/libvirt/virtkvmtoold-sock; session mode $XDG_RUNTIME_DIR/libvirt/virtkvmtoold-sock, or
 * $HOME/.cache/libvirt/ without XDG_RUNTIME_DIR. The read-only socket sits beside it with "-ro".
 */
final class SocketPaths {
    static final String NAME = "virtkvmtoold-sock";

    private SocketPaths() {
    }

    static Path defaultSocket(String uri, Map<String, String> env) {
        if (uri.endsWith("///system")) {
            return Path.of("/var/run/libvirt", NAME);
        }
        String runtime = env.get("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isBlank()) {
            return Path.of(runtime, "libvirt", NAME);
        }
        return Path.of(env.getOrDefault("HOME", "/tmp"), ".cache", "libvirt", NAME);
    }

    static Path readOnlyOf(Path socket) {
        return socket.resolveSibling(socket.getFileName() + "-ro");
    }
}
