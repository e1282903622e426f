package org.kvmtool.manager.jmx.jolokia;

import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * What Karaf's JMX ACL decisions depend on, besides the subject and the MBean: the jmx.acl* configurations.
 * Read once per HTTP request (one Config Admin listing), it says two things:
 * <ul>
 * <li>a <b>fingerprint</b> (every jmx.acl* PID with Config Admin's change count): while it stays the same,
 * Karaf answers a question as it did before, so answers may be remembered from one request to the next;
 * any change to an ACL file (or a new or deleted one) changes it, and what was remembered is forgotten
 * before the request that sees the change is decided;</li>
 * <li>whether Karaf can tell one kvmtool Domain MBean from another. Karaf looks up jmx.acl.kvmtool.Domain.NAME,
 * jmx.acl.kvmtool.Domain, jmx.acl.kvmtool, jmx.acl (segment "_" = any), and bypasses the ACL for
 * jmx.acl.whitelist keys such as "kvmtool.Domain.NAME[;method]". While no PID and no whitelist key goes down
 * to the domain's name, its answer for one Domain MBean holds for all of them, so a bulk read of 1,000 domains
 * needs one question per attribute, not 1,000. Conservative: anything that might name a domain (including any
 * PID with more segments below kvmtool.Domain) means "ask for each".</li>
 * </ul>
 */
final class AclLayout {
    static final String WHITELIST_PID = "jmx.acl.whitelist";

    /** One jmx.acl* configuration: PID, Config Admin's change count, and its keys (needed for the whitelist). */
    record AclPid(String pid, long changeCount, Collection<String> keys) {
    }

    /**
     * The layout seen by one request. {@code fingerprint} null: the configurations could not be read, so
     * nothing may be remembered beyond this request and nothing is shared between domains.
     */
    record Snapshot(String fingerprint, boolean domainsShare) {
        static final Snapshot UNKNOWN = new Snapshot(null, false);

        boolean rememberable() {
            return fingerprint != null;
        }
    }

    private final Supplier<Collection<AclPid>> configurations;

    /** @param configurations the jmx.acl* configurations now; null, or one that fails, means {@link Snapshot#UNKNOWN} */
    AclLayout(Supplier<Collection<AclPid>> configurations) {
        this.configurations = configurations;
    }

    /** A layout that never shares nor remembers: every MBean is asked about (when Config Admin is not there). */
    static AclLayout askForEach() {
        return new AclLayout(null);
    }

    Snapshot snapshot() {
        if (configurations == null) {
            return Snapshot.UNKNOWN;
        }
        try {
            return of(configurations.get());
        } catch (RuntimeException e) {
            return Snapshot.UNKNOWN;
        }
    }

    /** Pure. */
    static Snapshot of(Collection<AclPid> pids) {
        String fingerprint = pids.stream().map(p -> p.pid() + "@" + p.changeCount()).sorted()
                .collect(Collectors.joining(","));
        List<String> whitelist = pids.stream().filter(p -> WHITELIST_PID.equals(p.pid()))
                .flatMap(p -> p.keys().stream()).toList();
        return new Snapshot(fingerprint, shareable(pids.stream().map(AclPid::pid).toList(), whitelist));
    }

    /** Pure: no PID could match below jmx.acl.kvmtool.Domain, no whitelist key names a domain. */
    static boolean shareable(Collection<String> pids, Collection<String> whitelist) {
        for (String pid : pids) {
            String[] s = pid.split("\\.");
            // jmx . acl . kvmtool . Domain . NAME...
            if (s.length >= 5 && matches(s[2], "kvmtool") && matches(s[3], "Domain")) {
                return false;
            }
        }
        for (String key : whitelist) {
            String name = key.split(";", 2)[0].trim();
            if (name.startsWith("kvmtool.Domain.")) {
                return false;
            }
        }
        return true;
    }

    private static boolean matches(String segment, String value) {
        return segment.equals(value) || segment.equals("_");
    }
}
