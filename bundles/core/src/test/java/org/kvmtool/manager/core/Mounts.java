package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Small tmpfs mounts for disk-full and read-only tests (root only). */
final class Mounts {
    private Mounts() {
    }

    static boolean canMount() {
        try {
            return HostEnvironment.effectiveUid(Path.of("/proc/self/status")) == 0 && run("mount", "--version") == 0;
        } catch (Exception e) {
            return false;
        }
    }

    static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor();
    }

    static Tmpfs tmpfs(Path dir, String size) throws IOException, InterruptedException {
        if (run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()) != 0) {
            throw new IOException("mount of a tmpfs on " + dir + " failed");
        }
        return new Tmpfs(dir);
    }

    static final class Tmpfs implements AutoCloseable {
        final Path dir;

        Tmpfs(Path dir) {
            this.dir = dir;
        }

        /** Fills the file system to the last byte. */
        void fill() throws IOException {
            Path filler = dir.resolve(".filler");
            try (var out = Files.newOutputStream(filler)) {
                byte[] block = new byte[4096];
                while (true) {
                    out.write(block);
                }
            } catch (IOException full) {
                // No space left on device: full
            }
        }

        void unfill() throws IOException {
            Files.deleteIfExists(dir.resolve(".filler"));
        }

        void remountReadOnly() throws IOException, InterruptedException {
            if (run("mount", "-o", "remount,ro", dir.toString()) != 0) {
                throw new IOException("remount ro of " + dir + " failed");
            }
        }

        @Override
        public void close() throws IOException, InterruptedException {
            for (String[] cmd : List.of(new String[] {"umount", dir.toString()}, new String[] {"umount", "-l", dir.toString()})) {
                if (run(cmd) == 0) {
                    return;
                }
            }
        }
    }
}
