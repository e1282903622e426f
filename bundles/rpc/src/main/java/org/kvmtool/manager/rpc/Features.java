package org.kvmtool.manager.rpc;

/**
 * CONNECT_SUPPORTS_FEATURE, answered for every virDrvFeature (libvirt's src/libvirt_internal.h) by what this
 * server really does: yes only where the client may rely on it.
 */
final class Features {
    static final int MIGRATION_V1 = 1;
    /** The driver is on the other end of an RPC connection: true of every connection here. */
    static final int REMOTE = 2;
    static final int MIGRATION_V2 = 3;
    static final int MIGRATION_P2P = 4;
    static final int MIGRATION_DIRECT = 5;
    static final int MIGRATION_V3 = 6;
    static final int MIGRATE_CHANGE_PROTECTION = 7;
    /** Passing file descriptors with a call: this server reads none. */
    static final int FD_PASSING = 8;
    /** String-valued typed parameters: no procedure here takes or returns one. */
    static final int TYPED_PARAM_STRING = 9;
    /** PING/PONG of the keepalive program: answered (ClientConnection). */
    static final int PROGRAM_KEEPALIVE = 10;
    static final int XML_MIGRATABLE = 11;
    static final int MIGRATION_OFFLINE = 12;
    static final int MIGRATION_PARAMS = 13;
    /** Events carry the callback id of their registration (procedures 316-318): served. */
    static final int REMOTE_EVENT_CALLBACK = 14;
    /** CONNECT_REGISTER_CLOSE_CALLBACK (360/361): not served. */
    static final int REMOTE_CLOSE_CALLBACK = 15;
    /** virNetworkUpdate's argument order: this daemon has no network driver. */
    static final int NETWORK_UPDATE_HAS_CORRECT_ORDER = 16;

    private Features() {
    }

    /** Whether this server supports the feature; unknown numbers (newer libvirts) are not supported. */
    static boolean supports(int feature) {
        return switch (feature) {
            case REMOTE, PROGRAM_KEEPALIVE, REMOTE_EVENT_CALLBACK -> true;
            default -> false;
        };
    }
}
