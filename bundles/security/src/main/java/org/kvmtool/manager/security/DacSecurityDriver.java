package org.kvmtool.manager.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.zip.CRC32;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.SecurityDriver;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;

/**
 * libvirt's DAC security driver for kvmtool: in system mode, with {@code dynamic_ownership} (the default), the
 * kernel, the initrd and every disk a domain's lkvm opens are lent to lkvm's unprivileged user for the run
 * (chown; the owner keeps being root's business, see {@link Lender}) and given back when it ends, however it
 * ends. A file that lkvm's user can already use is left as it is. 9p source directories are checked, never
 * lent. The image locks it hands out are taken by lkvm itself (the exec helper), so they need no bookkeeping
 * here.
 *
 * <p>Crash safety: a domain's record ({@link LendRecord}) is on disk before the first file changes and goes
 * only after the last is back; holders on each file make give-backs idempotent. So a manager killed at any
 * moment, before or after the run's status file exists, gives everything back at its next activation
 * ({@link #recover}) unless the run still lives.
 *
 * <p>Reads {@code dynamic_ownership} from the manager's own configuration (PID org.kvmtool.manager, described
 * in its metatype); a change applies to the next start, and what is lent is always given back.
 */
// immediate: infrastructure outlives a driver update, as the other services do
@Component(service = SecurityDriver.class, configurationPid = DacSecurityDriver.PID, immediate = true,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class DacSecurityDriver implements SecurityDriver {
    static final String PID = "org.kvmtool.manager";
    private static final Logger LOG = Logger.getLogger(DacSecurityDriver.class.getName());
    /** How long a start waits for another one (of any manager) lending a file of the same directory. */
    private static final Duration DIR_LOCK_WAIT = Duration.ofSeconds(5);

    /** The key in etc/org.kvmtool.manager.cfg is dynamic_ownership (a double underscore is one underscore). */
    public @interface Config {
        boolean dynamic__ownership() default true;
    }

    private final Lender lender;
    private final String boot;
    private volatile boolean dynamicOwnership;

    @Activate
    public DacSecurityDriver(Config config) {
        this(config.dynamic__ownership(), bootId(Path.of("/proc/sys/kernel/random/boot_id")));
    }

    DacSecurityDriver(boolean dynamicOwnership, String boot) {
        this.lender = new Lender(new NativeFiles(), DIR_LOCK_WAIT);
        this.boot = boot;
        this.dynamicOwnership = dynamicOwnership;
    }

    @Modified
    void modified(Config config) {
        dynamicOwnership = config.dynamic__ownership();
    }

    /** The first 8 hex digits of this boot's id: holders of an earlier boot are over. */
    static String bootId(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII).strip().replace("-", "").substring(0, 8);
        } catch (IOException | RuntimeException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot read the boot id from " + file + ": " + e, e);
        }
    }

    /** This manager's part of a holder: a hash of its state directory. */
    static String managerId(Path stateDir) {
        CRC32 crc = new CRC32();
        crc.update(stateDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
        return String.format("%08x", crc.getValue());
    }

    private Lender.Scope scope(Path stateDir) {
        return new Lender.Scope(managerId(stateDir), boot, name -> LendRecord.exists(stateDir, name));
    }

    private String holder(Path stateDir, String domain) {
        return Holders.token(domain, managerId(stateDir), boot);
    }

    @Override
    public Lease prepare(Path stateDir, DomainDefinition def, int uid, int gid, List<Integer> groups) {
        var locks = RunFiles.locks(def);
        if (uid < 0 || !dynamicOwnership) {
            return new Lease(def.name(), List.of(), locks);
        }
        Access.Account who = new Access.Account(uid, gid, groups);
        for (DomainDefinition.Filesystem fs : def.devices().filesystems()) {
            lender.checkShare(fs.sourceDir(), who);
        }
        // one target per file: a kernel also used as a disk is one file, written if either use writes
        Map<String, Lender.Target> targets = new LinkedHashMap<>();
        for (RunFiles.Wanted w : RunFiles.of(def)) {
            if (w.path().indexOf('\n') >= 0) {
                throw new KvmtoolException(ErrorCode.INVALID_ARG, w.label() + " path holds a newline: " + w.path());
            }
            Lender.Target t = lender.resolve(w.label(), w.path(), w.write());
            targets.merge(t.dev() + ":" + t.ino(), t, (a, b) -> a.write() ? a : b);
        }
        // a record left by an earlier run of this domain (a give-back that failed) is over: this run starts now
        restore(stateDir, def.name());
        targets.values().removeIf(t -> lender.usableAsIs(t, who));
        if (targets.isEmpty()) {
            return new Lease(def.name(), List.of(), locks); // the common case: no record, no sync on the start path
        }
        new LendRecord(def.name(), targets.values().stream().map(Lender.Target::entry).toList()).write(stateDir);
        List<String> lent = new ArrayList<>();
        try {
            for (Lender.Target t : targets.values()) {
                if (lender.lend(t, who, holder(stateDir, def.name()), scope(stateDir))) {
                    lent.add(t.real().toString());
                }
            }
        } catch (RuntimeException e) {
            try {
                restore(stateDir, def.name());
            } catch (RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        if (!lent.isEmpty()) {
            LOG.fine(() -> def.name() + ": lent to uid " + uid + ": " + lent);
        }
        return new Lease(def.name(), lent, locks);
    }

    @Override
    public void restore(Path stateDir, String domain) {
        LendRecord record;
        try {
            record = LendRecord.read(stateDir, domain).orElse(null);
        } catch (IOException | RuntimeException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot read what was lent for domain '" + domain
                    + "' from " + LendRecord.path(stateDir, domain) + ": " + e.getMessage(), e);
        }
        if (record == null) {
            return;
        }
        List<LendRecord.Entry> left = new ArrayList<>();
        List<String> why = new ArrayList<>();
        for (LendRecord.Entry e : record.entries()) {
            try {
                lender.giveBack(e, holder(stateDir, domain), scope(stateDir));
            } catch (KvmtoolException x) {
                left.add(e);
                why.add(x.getMessage());
            }
        }
        if (left.isEmpty()) {
            try {
                LendRecord.delete(stateDir, domain);
            } catch (IOException e) {
                throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot remove " + LendRecord.path(stateDir, domain)
                        + ": " + LendRecord.reason(e), e);
            }
            return;
        }
        new LendRecord(domain, left).write(stateDir);
        throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "domain '" + domain + "': " + String.join("; ", why)
                + " (kept in " + LendRecord.path(stateDir, domain) + " for the next try)");
    }

    @Override
    public List<String> recover(Path stateDir, Set<String> live) {
        List<String> restored = new ArrayList<>();
        List<String> names;
        try {
            names = LendRecord.domains(stateDir);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot list " + stateDir + ": lent files not recovered: " + e.getMessage(), e);
            return restored;
        }
        for (String name : names) {
            if (live.contains(name)) {
                continue;
            }
            try {
                restore(stateDir, name);
                restored.add(name);
                LOG.info(() -> name + ": files lent to a run that ended while the manager was away are given back");
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, name + ": " + e.getMessage(), e);
            }
        }
        return restored;
    }
}
