package org.kvmtool.manager.hawtio.console;

import java.util.regex.Pattern;

/** Domain names as the console door takes them from a URL, and the MBean that answers for each. */
final class DomainNames {
    /** The driver's own rule for names (bundles/xml): nothing to quote in an ObjectName or escape in a path. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private DomainNames() {
    }

    static boolean valid(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /** As the jmx bundle names it, so that Karaf's per-domain ACL PIDs (jmx.acl.kvmtool.Domain.NAME) apply. */
    static String objectName(String domain) {
        return "kvmtool:type=Domain,name=" + domain;
    }
}
