package org.kvmtool.manager.console;

import org.kvmtool.manager.api.ConsoleService;
import org.kvmtool.manager.api.Pty;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A guest process holding a fresh pty's master as its stdio, started the way the driver will. */
final class Guest implements AutoCloseable {
    final String slavePath;
    final Child process;

    private Guest(String slavePath, Child process) {
        this.slavePath = slavePath;
        this.process = process;
    }

    long pid() {
        return process.pid();
    }

    /** {@link FakeGuest} in a small JVM. */
    static Guest fake(ConsoleService consoles, Path home, String... options) {
        List<String> argv = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-cp", testClasses(), FakeGuest.class.getName()));
        argv.addAll(List.of(options));
        return start(consoles, argv, home);
    }

    /** An lkvm (the stand-in or a real one) running the test guest. */
    static Guest lkvm(ConsoleService consoles, String lkvm, String kernel, String name, Path home) {
        return start(consoles, List.of(lkvm, "run", "--name", name, "-k", kernel, "-m", "64", "-c", "1",
                "--nodefaults", "-n", "mode=none"), home);
    }

    /** Any program. */
    static Guest command(ConsoleService consoles, Path home, String... argv) {
        return start(consoles, List.of(argv), home);
    }

    private static Guest start(ConsoleService consoles, List<String> argv, Path home) {
        Pty pty = consoles.allocate();
        try {
            Child child = Child.spawn(pty.masterFd(), argv, Map.of("PATH", "/usr/bin:/bin", "HOME", home.toString()));
            return new Guest(pty.slavePath(), child);
        } finally {
            consoles.closeMaster(pty.masterFd()); // the child has its own copies now
        }
    }

    private static String testClasses() {
        try {
            return Path.of(FakeGuest.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.close();
    }
}
