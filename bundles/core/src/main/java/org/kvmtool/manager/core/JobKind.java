package org.kvmtool.manager.core;

/**
 * What a domain's job is doing: named in "job 'start' holds it" when another caller times out, and telling
 * destroy which jobs it may abort (those that start lkvm: destroy gets through a stuck start, THREADING.md).
 */
enum JobKind {
    DEFINE("define", false),
    CREATE("create", true),
    UNDEFINE("undefine", false),
    START("start", true),
    SHUTDOWN("shutdown", false),
    DESTROY("destroy", false),
    REBOOT("reboot", true),
    SUSPEND("suspend", false),
    RESUME("resume", false),
    SET_MEMORY("setMemory", false),
    SET_AUTOSTART("setAutostart", false),
    SET_CPU_SHARES("setCpuShares", false),
    SET_MEMORY_LIMIT("setMemoryLimit", false),
    MEMORY_STATS("memoryStats", false),
    /** The exit handler: on_poweroff/on_crash may restart the domain. */
    EXIT("exit", true),
    SHUTDOWN_TIMEOUT("shutdown-timeout", false),
    AUTOSTART("autostart", true);

    private final String word;
    private final boolean abortable;

    JobKind(String word, boolean abortable) {
        this.word = word;
        this.abortable = abortable;
    }

    /** The name messages use. */
    String word() {
        return word;
    }

    /** Whether it may start lkvm, so that destroy may abort it. */
    boolean abortable() {
        return abortable;
    }
}
