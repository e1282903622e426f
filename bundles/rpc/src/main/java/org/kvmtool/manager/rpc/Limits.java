package org.kvmtool.manager.rpc;

import java.util.concurrent.TimeUnit;

/**
 * The RPC server's resource limits (etc/org.kvmtool.manager.rpc.cfg; README, "Limits of the libvirt RPC
 * endpoint"). The defaults keep the whole endpoint within a few MiB, so that the lean runtime's 64 MiB heap
 * survives any number of hostile local clients.
 *
 * @param maxClients          connections past CONNECT_OPEN, all users (libvirtd: max_clients)
 * @param maxClientsPerUid    connections past CONNECT_OPEN of one user (libvirtd has none)
 * @param maxAnonymousClients connections not yet past CONNECT_OPEN (libvirtd: max_anonymous_clients)
 * @param openTimeoutMillis   how long a connection may take to CONNECT_OPEN (libvirtd has none)
 * @param maxWorkers          threads running calls, for all connections (libvirtd: max_workers)
 * @param maxClientRequests   calls of one connection read and not yet answered (libvirtd: max_client_requests)
 * @param maxMessageBytes     the longest frame read, length word included (libvirt: VIR_NET_MESSAGE_MAX + 4)
 * @param maxBufferBytes      bytes all connections may hold in frames and queues together (libvirtd has none)
 * @param maxClientQueueBytes bytes waiting to be written to one client (libvirtd has none)
 * @param maxQueuedClients    connections the kernel holds before accept (libvirtd: max_queued_clients)
 */
record Limits(int maxClients, int maxClientsPerUid, int maxAnonymousClients, long openTimeoutMillis,
              int maxWorkers, int maxClientRequests, int maxMessageBytes, long maxBufferBytes,
              long maxClientQueueBytes, int maxQueuedClients) {

    /** The largest frame libvirt itself accepts: the message and its length word. */
    static final int PROTOCOL_MAX_FRAME = ProtocolLimits.MESSAGE_MAX + ProtocolLimits.LENGTH_WORD;
    /** Before CONNECT_OPEN only the handshake's small calls come: libvirt's initial buffer is plenty. */
    static final int ANONYMOUS_MAX_FRAME = ProtocolLimits.MESSAGE_INITIAL + ProtocolLimits.LENGTH_WORD;

    // The defaults, one place for RpcConfig's annotations and DEFAULTS; the README's table gives the why of each.
    static final int MAX_CLIENTS = 128;
    static final int MAX_CLIENTS_PER_UID = 32;
    static final int MAX_ANONYMOUS_CLIENTS = 20;
    static final int OPEN_TIMEOUT_SECONDS = 5;
    static final int MAX_WORKERS = 20;
    static final int MAX_CLIENT_REQUESTS = 5;
    static final int MAX_MESSAGE_BYTES = ProtocolLimits.STRING_MAX + ProtocolLimits.MESSAGE_INITIAL;
    static final long MAX_BUFFER_BYTES = 16L << 20;
    static final long MAX_CLIENT_QUEUE_BYTES = 1L << 20;
    static final int MAX_QUEUED_CLIENTS = 1000;

    static final Limits DEFAULTS = new Limits(MAX_CLIENTS, MAX_CLIENTS_PER_UID, MAX_ANONYMOUS_CLIENTS,
            TimeUnit.SECONDS.toMillis(OPEN_TIMEOUT_SECONDS), MAX_WORKERS, MAX_CLIENT_REQUESTS, MAX_MESSAGE_BYTES,
            MAX_BUFFER_BYTES, MAX_CLIENT_QUEUE_BYTES, MAX_QUEUED_CLIENTS);

    Limits {
        positive(maxClients, "max_clients");
        positive(maxClientsPerUid, "max_clients_per_uid");
        positive(maxAnonymousClients, "max_anonymous_clients");
        positive(openTimeoutMillis, "open_timeout_seconds");
        positive(maxWorkers, "max_workers");
        positive(maxClientRequests, "max_client_requests");
        positive(maxBufferBytes, "max_buffer_bytes");
        positive(maxClientQueueBytes, "max_client_queue_bytes");
        positive(maxQueuedClients, "max_queued_clients");
        if (maxMessageBytes < Packet.HEADER_BYTES || maxMessageBytes > PROTOCOL_MAX_FRAME) {
            throw new IllegalArgumentException("max_message_bytes must lie between " + Packet.HEADER_BYTES + " and "
                    + PROTOCOL_MAX_FRAME + " (libvirt's VIR_NET_MESSAGE_MAX + 4): " + maxMessageBytes);
        }
    }

    static Limits of(RpcConfig c) {
        return new Limits(c.max__clients(), c.max__clients__per__uid(), c.max__anonymous__clients(),
                TimeUnit.SECONDS.toMillis(c.open__timeout__seconds()), c.max__workers(), c.max__client__requests(),
                c.max__message__bytes(), c.max__buffer__bytes(), c.max__client__queue__bytes(),
                c.max__queued__clients());
    }

    long openTimeoutNanos() {
        return TimeUnit.MILLISECONDS.toNanos(openTimeoutMillis);
    }

    /** The longest frame a connection may send now. */
    int maxFrame(boolean opened) {
        return opened ? maxMessageBytes : Math.min(maxMessageBytes, ANONYMOUS_MAX_FRAME);
    }

    private static void positive(long v, String key) {
        if (v <= 0) {
            throw new IllegalArgumentException(key + " must be positive: " + v);
        }
    }
}
