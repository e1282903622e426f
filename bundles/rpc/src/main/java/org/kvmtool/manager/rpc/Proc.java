package org.kvmtool.manager.rpc;

/** libvirt's REMOTE_PROC_* numbers that this server knows (remote_protocol.x). */
final class Proc {
    private Proc() {
    }

    static final int CONNECT_OPEN = 1;
    static final int CONNECT_CLOSE = 2;
    static final int CONNECT_GET_TYPE = 3;
    static final int CONNECT_GET_VERSION = 4;
    static final int CONNECT_GET_MAX_VCPUS = 5;
    static final int NODE_GET_INFO = 6;
    static final int CONNECT_GET_CAPABILITIES = 7;
    static final int DOMAIN_CREATE = 9;
    static final int DOMAIN_CREATE_XML = 10;
    static final int DOMAIN_DEFINE_XML = 11;
    static final int DOMAIN_DESTROY = 12;
    static final int DOMAIN_GET_XML_DESC = 14;
    static final int DOMAIN_GET_AUTOSTART = 15;
    static final int DOMAIN_GET_INFO = 16;
    static final int DOMAIN_GET_MAX_MEMORY = 17;
    static final int DOMAIN_GET_OS_TYPE = 19;
    static final int CONNECT_LIST_DEFINED_DOMAINS = 21;
    static final int DOMAIN_LOOKUP_BY_ID = 22;
    static final int DOMAIN_LOOKUP_BY_NAME = 23;
    static final int DOMAIN_LOOKUP_BY_UUID = 24;
    static final int CONNECT_NUM_OF_DEFINED_DOMAINS = 25;
    static final int DOMAIN_REBOOT = 27;
    static final int DOMAIN_RESUME = 28;
    static final int DOMAIN_SET_AUTOSTART = 29;
    static final int DOMAIN_SET_MEMORY = 31;
    static final int DOMAIN_SHUTDOWN = 33;
    static final int DOMAIN_SUSPEND = 34;
    static final int DOMAIN_UNDEFINE = 35;
    static final int CONNECT_LIST_DOMAINS = 37;
    static final int CONNECT_NUM_OF_DOMAINS = 51;
    static final int CONNECT_GET_HOSTNAME = 59;
    static final int CONNECT_SUPPORTS_FEATURE = 60;
    static final int DOMAIN_INTERFACE_STATS = 65;
    static final int AUTH_LIST = 66;
    static final int NODE_GET_CELLS_FREE_MEMORY = 101;
    static final int NODE_GET_FREE_MEMORY = 102;
    static final int DOMAIN_EVENT_LIFECYCLE = 107;
    static final int CONNECT_GET_URI = 110;
    static final int NODE_GET_SECURITY_MODEL = 122;
    static final int CONNECT_IS_SECURE = 149;
    static final int DOMAIN_IS_ACTIVE = 150;
    static final int DOMAIN_IS_PERSISTENT = 151;
    static final int CONNECT_GET_LIB_VERSION = 157;
    static final int CONNECT_DOMAIN_EVENT_REGISTER_ANY = 167;
    static final int CONNECT_DOMAIN_EVENT_DEREGISTER_ANY = 168;
    static final int DOMAIN_HAS_MANAGED_SAVE_IMAGE = 183;
    static final int DOMAIN_SNAPSHOT_NUM = 187;
    static final int DOMAIN_CREATE_WITH_FLAGS = 196;
    static final int DOMAIN_OPEN_CONSOLE = 201;
    static final int CONNECT_GET_SYSINFO = 203;
    static final int DOMAIN_SET_MEMORY_FLAGS = 204;
    static final int DOMAIN_GET_STATE = 212;
    static final int NODE_GET_CPU_STATS = 227;
    static final int NODE_GET_MEMORY_STATS = 228;
    static final int DOMAIN_UNDEFINE_FLAGS = 231;
    static final int DOMAIN_DESTROY_FLAGS = 234;
    static final int DOMAIN_SHUTDOWN_FLAGS = 258;
    static final int CONNECT_LIST_ALL_DOMAINS = 273;
    static final int NODE_GET_CPU_MAP = 293;
    static final int CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY = 316;
    static final int CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY = 317;
    static final int DOMAIN_EVENT_CALLBACK_LIFECYCLE = 318;
    static final int CONNECT_GET_DOMAIN_CAPABILITIES = 342;
    static final int DOMAIN_DEFINE_XML_FLAGS = 350;

    /** Keepalive program procedures. */
    static final int KEEPALIVE_PING = 1;
    static final int KEEPALIVE_PONG = 2;

    /** Procedures this server serves that change something: refused on a read-only connection, with a reason. */
    static boolean isChange(int proc) {
        return switch (proc) {
            case DOMAIN_CREATE, DOMAIN_CREATE_XML, DOMAIN_DEFINE_XML, DOMAIN_DESTROY, DOMAIN_REBOOT, DOMAIN_RESUME,
                    DOMAIN_SET_AUTOSTART, DOMAIN_SET_MEMORY, DOMAIN_SHUTDOWN, DOMAIN_SUSPEND, DOMAIN_UNDEFINE,
                    DOMAIN_CREATE_WITH_FLAGS, DOMAIN_OPEN_CONSOLE, DOMAIN_SET_MEMORY_FLAGS, DOMAIN_UNDEFINE_FLAGS,
                    DOMAIN_DESTROY_FLAGS, DOMAIN_SHUTDOWN_FLAGS, DOMAIN_DEFINE_XML_FLAGS -> true;
            default -> false;
        };
    }

    /** Procedures that change nothing: the only ones a read-only connection may call. */
    static boolean isReadOnly(int proc) {
        return switch (proc) {
            case CONNECT_OPEN, CONNECT_CLOSE, CONNECT_GET_TYPE, CONNECT_GET_VERSION, CONNECT_GET_LIB_VERSION,
                    DOMAIN_GET_XML_DESC, DOMAIN_GET_AUTOSTART, DOMAIN_GET_INFO, DOMAIN_GET_MAX_MEMORY,
                    DOMAIN_GET_OS_TYPE, CONNECT_LIST_DEFINED_DOMAINS, DOMAIN_LOOKUP_BY_ID, DOMAIN_LOOKUP_BY_NAME,
                    DOMAIN_LOOKUP_BY_UUID, CONNECT_NUM_OF_DEFINED_DOMAINS, CONNECT_LIST_DOMAINS,
                    CONNECT_NUM_OF_DOMAINS, CONNECT_GET_HOSTNAME, CONNECT_SUPPORTS_FEATURE, AUTH_LIST,
                    CONNECT_GET_URI, DOMAIN_IS_ACTIVE, DOMAIN_IS_PERSISTENT, CONNECT_DOMAIN_EVENT_REGISTER_ANY,
                    CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, DOMAIN_HAS_MANAGED_SAVE_IMAGE, DOMAIN_SNAPSHOT_NUM,
                    DOMAIN_GET_STATE, CONNECT_LIST_ALL_DOMAINS, CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
                    CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, DOMAIN_INTERFACE_STATS -> true;
            // the host and connection procedures (HostProcedures)
            case CONNECT_GET_MAX_VCPUS, NODE_GET_INFO, CONNECT_GET_CAPABILITIES, NODE_GET_CELLS_FREE_MEMORY,
                    NODE_GET_FREE_MEMORY, NODE_GET_SECURITY_MODEL, CONNECT_IS_SECURE, CONNECT_GET_SYSINFO,
                    NODE_GET_CPU_STATS, NODE_GET_MEMORY_STATS, NODE_GET_CPU_MAP, CONNECT_GET_DOMAIN_CAPABILITIES -> true;
            default -> false;
        };
    }
}
