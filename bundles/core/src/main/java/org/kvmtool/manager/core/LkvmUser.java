package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Who lkvm runs as in system mode: the uid and primary gid of {@code lkvm.user} from passwd, and the
 * group that owns /dev/kvm as a supplementary group (so the unprivileged user can open it).
 */
record LkvmUser(String name, int uid, int gid, List<Integer> supplementaryGroups) {
    static final LkvmUser SAME_AS_MANAGER = new LkvmUser(null, -1, -1, List.of());

    LkvmUser {
        supplementaryGroups = List.copyOf(supplementaryGroups);
    }

    static LkvmUser resolve(String user, Path etcDir, Path devKvm) {
        String[] entry = find(etcDir.resolve("passwd"), user);
        if (entry == null) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "lkvm.user '" + user + "' does not exist (create it, e.g. useradd --system "
                    + user + ")");
        }
        int uid = Integer.parseInt(entry[2]);
        int gid = Integer.parseInt(entry[3]);
        List<Integer> groups = new ArrayList<>();
        try {
            if (Files.exists(devKvm)) {
                int kvmGid = (Integer) Files.getAttribute(devKvm, "unix:gid");
                if (kvmGid != gid) {
                    groups.add(kvmGid);
                }
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot read the group of " + devKvm + ": " + e.getMessage(), e);
        }
        return new LkvmUser(user, uid, gid, groups);
    }

    private static String[] find(Path passwd, String user) {
        try {
            for (String line : Files.readAllLines(passwd)) {
                String[] f = line.split(":", -1);
                if (f.length >= 4 && f[0].equals(user)) {
                    return f;
                }
            }
            return null;
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot read " + passwd + ": " + AtomicFile.reason(e), e);
        }
    }
}
