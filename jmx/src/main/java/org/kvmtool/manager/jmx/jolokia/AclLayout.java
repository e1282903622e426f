package org.kvmtool.manager.jmx.jolokia;

import java.util.Collection;
import java.util.function.Supplier;

/**
 * Whether Karaf's JMX ACL can tell one kvmtool Domain MBean from another. Karaf looks up
 * jmx.acl.kvmtool.Domain.NAME, jmx.acl.kvmtool.Domain, jmx.acl.kvmtool, jmx.acl (segment "_" = any), and
 * bypasses the ACL for jmx.acl.whitelist keys such as "kvmtool.Domain.NAME[;method]". While no PID and no
 * whitelist key goes down to the domain's name, its answer for one Domain MBean holds for all of them, so a
 * bulk read of 1,000 domains needs one question per attribute, not 1,000. Conservative: anything that might
 * name a domain (including any PID with more segments below kvmtool.Domain) means "ask for each".
 */
final class AclLayout {
    private final Supplier<Collection<String>> aclPids;
    private final Supplier<Collection<String>> whitelistKeys;

    /** Both suppliers are read at most once per HTTP request; a null or failing supplier means "ask for each". */
    AclLayout(Supplier<Collection<String>> aclPids, Supplier<Collection<String>> whitelistKeys) {
        this.aclPids = aclPids;
        this.whitelistKeys = whitelistKeys;
    }

    /** A layout that never shares: every MBean is asked about (when Config Admin is not there). */
    static AclLayout askForEach() {
        return new AclLayout(null, null);
    }

    boolean domainsShareDecisions() {
        if (aclPids == null || whitelistKeys == null) {
            return false;
        }
        try {
            return shareable(aclPids.get(), whitelistKeys.get());
        } catch (RuntimeException e) {
            return false;
        }
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
