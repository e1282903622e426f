package org.kvmtool.manager.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.kvmtool.manager.api.ProcessIdentity;

/**
 * Whether a process is a zombie (ended, not yet reaped: /proc/PID/stat field 3 is Z or X) or its pid now
 * belongs to another. A missing /proc entry says nothing here: the spawner's isAlive answers for that.
 */
final class ProcState {
    private ProcState() {
    }

    static boolean zombie(Path procDir, ProcessIdentity p) {
        try {
            String stat = Files.readString(procDir.resolve(Long.toString(p.pid())).resolve("stat"));
            // the command name may hold blanks and parentheses: the fields start after the last ')'
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            return f[0].equals("Z") || f[0].equals("X") || Long.parseLong(f[19]) != p.startTime();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
