package org.kvmtool.manager.jmx;

import java.util.regex.Pattern;

import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/** The contract's ObjectNames. Karaf's ACL reads them as PIDs jmx.acl.kvmtool.Domain.NAME, ..., jmx.acl.kvmtool. */
final class ObjectNames {
    static final String DOMAIN = "kvmtool";
    static final ObjectName MANAGER = parse(DOMAIN + ":type=Manager");
    static final ObjectName ALL_DOMAINS = parse(DOMAIN + ":type=Domain,*");

    // Domain names are [A-Za-z0-9][A-Za-z0-9_.-]{0,63}: nothing to quote. Anything else is quoted, not rejected.
    private static final Pattern PLAIN_VALUE = Pattern.compile("[A-Za-z0-9_.-]+");

    private ObjectNames() {
    }

    static ObjectName domain(String name) {
        String value = PLAIN_VALUE.matcher(name).matches() ? name : ObjectName.quote(name);
        return parse(DOMAIN + ":type=Domain,name=" + value);
    }

    private static ObjectName parse(String name) {
        try {
            return new ObjectName(name);
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException(name, e);
        }
    }
}
