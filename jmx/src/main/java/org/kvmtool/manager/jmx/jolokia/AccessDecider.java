package org.kvmtool.manager.jmx.jolokia;

import javax.management.ObjectName;

/** Whether the subject of the current thread (JAAS, Subject.doAs) may touch an MBean: Karaf's JMX ACL. */
interface AccessDecider {
    boolean canRead(ObjectName name, String attribute);

    boolean canWrite(ObjectName name, String attribute);

    /** {@code operation} as Jolokia passes it: "name" (any overload) or "name(type,...)". */
    boolean canInvoke(ObjectName name, String operation);
}
