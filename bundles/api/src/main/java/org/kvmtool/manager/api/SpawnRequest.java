package org.kvmtool.manager.api;

import java.util.List;

/**
 * How to start one lkvm.
 *
 * @param argv        the whole argv, argv[0] the absolute path of the binary
 * @param homeDir     HOME of the new process: kvmtool puts its socket in HOME/.lkvm/
 * @param stdioFd     a descriptor of this JVM that becomes the child's 0, 1 and 2 (the pty master)
 * @param cgroupProcsFiles the cgroup.procs files the child joins before it executes lkvm
 * @param uid         run as this uid (system mode), or -1 to keep the manager's
 * @param gid         run as this gid, or -1 to keep the manager's
 * @param supplementaryGroups extra groups (e.g. the group of /dev/kvm); empty to drop all when uid != -1
 * @param locks       image locks taken before exec on descriptors the program keeps (as the final user); a lock
 *                    that another process holds fails the spawn, naming the image and its holder
 */
public record SpawnRequest(List<String> argv, String homeDir, int stdioFd, List<String> cgroupProcsFiles,
                           int uid, int gid, List<Integer> supplementaryGroups, List<ImageLock> locks) {
    public SpawnRequest {
        argv = List.copyOf(argv);
        cgroupProcsFiles = List.copyOf(cgroupProcsFiles);
        supplementaryGroups = List.copyOf(supplementaryGroups);
        locks = List.copyOf(locks);
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("empty argv");
        }
    }

    /** Without image locks. */
    public SpawnRequest(List<String> argv, String homeDir, int stdioFd, List<String> cgroupProcsFiles,
                        int uid, int gid, List<Integer> supplementaryGroups) {
        this(argv, homeDir, stdioFd, cgroupProcsFiles, uid, gid, supplementaryGroups, List.of());
    }
}
