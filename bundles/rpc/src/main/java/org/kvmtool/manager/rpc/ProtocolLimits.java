package org.kvmtool.manager.rpc;

/**
 * libvirt's own bounds on what a message may hold (src/rpc/virnetprotocol.x, src/remote/remote_protocol.x
 * of libvirt 9). They are part of the wire format, not tunables: no libvirt client sends more, and libvirtd
 * refuses more too. Every decoder check against them comes before the allocation it guards.
 */
final class ProtocolLimits {
    private ProtocolLimits() {
    }

    /** VIR_NET_MESSAGE_LEN_MAX: the length word, which counts itself. */
    static final int LENGTH_WORD = 4;
    /** VIR_NET_MESSAGE_MAX: header and payload of the largest message; the length word comes on top. */
    static final int MESSAGE_MAX = 33554432;
    /** VIR_NET_MESSAGE_INITIAL: the size libvirt starts a message buffer with. */
    static final int MESSAGE_INITIAL = 65536;
    /** REMOTE_STRING_MAX (VIR_NET_MESSAGE_STRING_MAX): the longest string. */
    static final int STRING_MAX = 4194304;
    /** REMOTE_DOMAIN_LIST_MAX: the longest list of domains (ids, names, domains). */
    static final int DOMAIN_LIST_MAX = 16384;
}
