package org.kvmtool.manager.network;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the kernel says about network devices in /sys/class/net (a constructor parameter, so tests can read a
 * fixture tree): existence, kind, MTU, counters, and the alias ({@code ifalias}) that marks the taps this
 * bundle made. Writing the alias is the one write: sysfs takes it from root without a netlink message.
 */
final class SysNet {
    /** IFF_TAP in tun_flags: a tap, not a tun. */
    private static final int IFF_TAP = 0x2;

    private final Path root;

    SysNet(Path root) {
        this.root = root;
    }

    boolean exists(String name) {
        return Files.exists(root.resolve(name), LinkOption.NOFOLLOW_LINKS);
    }

    boolean isBridge(String name) {
        return Files.isDirectory(root.resolve(name).resolve("bridge"));
    }

    /** A tap (tun driver, IFF_TAP). */
    boolean isTap(String name) {
        return read(name, "tun_flags").map(f -> (Long.decode(f) & IFF_TAP) != 0).orElse(false);
    }

    int mtu(String name) throws IOException {
        return Integer.parseInt(Files.readString(root.resolve(name).resolve("mtu")).trim());
    }

    /** The alias, empty when unset or unreadable (a device that went meanwhile). */
    String alias(String name) {
        return read(name, "ifalias").orElse("");
    }

    void setAlias(String name, String alias) throws IOException {
        Files.writeString(root.resolve(name).resolve("ifalias"), alias, StandardCharsets.UTF_8);
    }

    /** The device's counters: statistics/NAME, 0 when the file is missing. */
    long counter(String name, String counter) throws IOException {
        Path f = root.resolve(name).resolve("statistics").resolve(counter);
        return Files.exists(f) ? Long.parseLong(Files.readString(f).trim()) : 0;
    }

    /** Every device's name. */
    List<String> names() {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                out.add(p.getFileName().toString());
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    private Optional<String> read(String name, String attribute) {
        try {
            return Optional.of(Files.readString(root.resolve(name).resolve(attribute), StandardCharsets.UTF_8).strip());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
