package org.kvmtool.manager.api;

import java.util.List;

/**
 * Who a process is, beyond its pid: the start time (field 22 of /proc/PID/stat, clock ticks since
 * boot) and its argv (/proc/PID/cmdline). A recorded identity matches a live process only if all
 * three match, so a recycled pid is never mistaken for our lkvm.
 */
public record ProcessIdentity(long pid, long startTime, List<String> cmdline) {
    public ProcessIdentity {
        cmdline = List.copyOf(cmdline);
    }
}
