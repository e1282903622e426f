package org.kvmtool.manager.lean.jolokia;

import java.util.Set;

import org.jolokia.server.core.util.RequestType;

/**
 * What a set of roles may do over Jolokia: the same split as the Karaf distribution's JMX ACL
 * (etc/jmx.acl.kvmtool.cfg there): {@code admin} everything; {@code viewer} reads attributes, lists,
 * searches and listens to notifications (the State changes and lifecycle events it could read anyway), and
 * nothing else (no operation, so not consoleLog or dumpXml; no attribute write); any other user nothing.
 */
enum Access {
    NONE, READ, ALL;

    static final String ADMIN = "admin";
    static final String VIEWER = "viewer";

    static Access of(Set<String> roles) {
        if (roles.contains(ADMIN)) {
            return ALL;
        }
        return roles.contains(VIEWER) ? READ : NONE;
    }

    boolean allowsType(RequestType type) {
        return switch (this) {
            case ALL -> true;
            case READ -> type == RequestType.READ || type == RequestType.LIST || type == RequestType.SEARCH
                    || type == RequestType.VERSION || type == RequestType.NOTIFICATION;
            case NONE -> false;
        };
    }

    boolean allowsRead() {
        return this != NONE;
    }

    boolean allowsChange() {
        return this == ALL;
    }
}
