package org.kvmtool.manager.jmx.jolokia;

import javax.management.ObjectName;

/** Whether the subject of the current thread (JAAS, Subject.doAs) may touch an MBean: Karaf's JMX ACL. */
interface AccessDecider {
    /** Karaf's answer, or UNDECIDED when it could not be asked (then the caller refuses and remembers nothing). */
    enum Verdict {
        ALLOWED, REFUSED, UNDECIDED;

        static Verdict of(boolean allowed) {
            return allowed ? ALLOWED : REFUSED;
        }
    }

    Verdict canRead(ObjectName name, String attribute);

    Verdict canWrite(ObjectName name, String attribute);

    /** {@code operation} as Jolokia passes it: "name" (any overload) or "name(type,...)". */
    Verdict canInvoke(ObjectName name, String operation);
}
