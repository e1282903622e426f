package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

/**
 * The kvmtool-exec helper binary: carried in this bundle as a resource for each platform and copied
 * out (mode 0755) to a directory on a file system that allows exec, because a jar entry cannot be run.
 */
final class ExecHelper {
    static final String NAME = "kvmtool-exec";

    private ExecHelper() {
    }

    /** The resource holding the helper built for this platform. */
    static String resourceName() {
        return "/native/" + Posix.resourcePrefix() + "/" + NAME;
    }

    /**
     * Installs the helper into {@code dir} (created if needed) unless an identical copy is there, and
     * returns its path. Safe against concurrent installers: the file appears by an atomic rename.
     */
    static Path install(Path dir) {
        byte[] binary = load();
        Path target = dir.resolve(NAME);
        try {
            Files.createDirectories(dir);
            if (Files.isRegularFile(target) && Files.isExecutable(target)
                    && Arrays.equals(Files.readAllBytes(target), binary)) {
                return target;
            }
            Path tmp = Files.createTempFile(dir, NAME, ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            try {
                Files.write(tmp, binary);
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR,
                    "cannot install the exec helper in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static byte[] load() {
        try (InputStream in = ExecHelper.class.getResourceAsStream(resourceName())) {
            if (in == null) {
                throw new KvmtoolException(ErrorCode.SYSTEM_ERROR,
                        "this build has no exec helper for " + Posix.resourcePrefix());
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot read the exec helper: " + e.getMessage(), e);
        }
    }
}
