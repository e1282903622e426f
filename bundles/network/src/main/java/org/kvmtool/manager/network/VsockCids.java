package org.kvmtool.manager.network;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.kvmtool.manager.api.DomainDefinition.Vsock;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * The guest CIDs of the host, as libvirt's virVsockAcquireGuestCid would find them if the kernel let two
 * guests share one: a CID is used when a running lkvm ({@code --vsock N}) or QEMU
 * ({@code -device vhost-vsock-...,guest-cid=N}) names it in its argv, or when a start of this service holds
 * it (between its choice and lkvm's exec, the argv does not show it yet). Our own guests are lkvm processes
 * like the others, so a manager restart loses nothing.
 */
final class VsockCids {
    private static final Pattern QEMU_CID = Pattern.compile("(?:^|,)guest-cid=(\\d{1,10})(?:,|$)");

    private final Path procDir;
    private final Path vhostVsock;
    /** CIDs held by owner. Guarded by this. */
    private final Map<String, Long> held = new HashMap<>();

    VsockCids(Path procDir, Path vhostVsock) {
        this.procDir = procDir;
        this.vhostVsock = vhostVsock;
    }

    synchronized long acquire(String domain, String owner, Vsock vsock) {
        if (!Files.exists(vhostVsock)) {
            throw new KvmtoolException(ErrorCode.CONFIG_UNSUPPORTED, "domain '" + domain + "' has a vsock, but this host has no "
                    + vhostVsock + " (load the vhost_vsock module)");
        }
        held.remove(owner);
        Map<Long, String> used = usedByProcesses();
        held.forEach((o, cid) -> used.putIfAbsent(cid, "a domain being started"));
        long cid;
        if (vsock.auto()) {
            cid = Vsock.MIN_CID;
            while (used.containsKey(cid)) {
                cid++;
            }
            if (cid > Vsock.MAX_CID) {
                throw new KvmtoolException(ErrorCode.OPERATION_FAILED, "no free vsock CID for domain '" + domain + "'");
            }
        } else {
            cid = vsock.cid();
            String user = used.get(cid);
            if (user != null) {
                throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "vsock CID " + cid + " of domain '" + domain
                        + "' is in use by " + user + ": give another address, or auto='yes'");
            }
        }
        held.put(owner, cid);
        return cid;
    }

    synchronized void release(String owner) {
        held.remove(owner);
    }

    /** CID -> who uses it ("lkvm pid 123"), from every readable /proc/PID/cmdline. */
    Map<Long, String> usedByProcesses() {
        Map<Long, String> out = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(procDir, "[0-9]*")) {
            for (Path p : ds) {
                byte[] cmdline;
                try {
                    cmdline = Files.readAllBytes(p.resolve("cmdline"));
                } catch (IOException | RuntimeException gone) {
                    continue; // ended meanwhile, or not ours to read
                }
                List<String> argv = List.of(new String(cmdline, StandardCharsets.UTF_8).split("\0"));
                for (long cid : cidsIn(argv)) {
                    out.putIfAbsent(cid, program(argv) + " pid " + p.getFileName());
                }
            }
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot list " + procDir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** The CIDs an argv gives a guest: lkvm's {@code --vsock N} or {@code --vsock=N}, QEMU's {@code guest-cid=N}. */
    static List<Long> cidsIn(List<String> argv) {
        java.util.ArrayList<Long> out = new java.util.ArrayList<>();
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            String value = null;
            if (a.equals("--vsock") && i + 1 < argv.size()) {
                value = argv.get(i + 1);
            } else if (a.startsWith("--vsock=")) {
                value = a.substring("--vsock=".length());
            } else {
                Matcher m = QEMU_CID.matcher(a);
                if (m.find()) {
                    value = m.group(1);
                }
            }
            if (value != null) {
                try {
                    out.add(Long.parseLong(value.trim()));
                } catch (NumberFormatException e) {
                    // not a CID: lkvm would refuse it
                }
            }
        }
        return out;
    }

    private static String program(List<String> argv) {
        String p = argv.isEmpty() ? "" : argv.get(0);
        int slash = p.lastIndexOf('/');
        return p.isEmpty() ? "a process" : p.substring(slash + 1);
    }
}
