package org.kvmtool.manager.rpc;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * etc/org.kvmtool.manager.rpc.cfg. The keys are libvirtd.conf's: in a component property type, DS turns a
 * double underscore into the single one of the key (and a single one into a dot), hence {@code max__clients}
 * for {@code max_clients}. The defaults are
 * {@link Limits}' constants.
 */
@ObjectClassDefinition(name = "kvmtool-manager libvirt RPC endpoint",
        description = "The UNIX sockets on which virsh and other libvirt clients reach kvmtool-manager, and their limits")
public @interface RpcConfig {
    @AttributeDefinition(description = "Serve libvirt's RPC protocol")
    boolean enabled() default true;

    @AttributeDefinition(description = "Read-write socket; empty = virsh's default path for the manager's URI "
            + "(/var/run/libvirt/virtkvmtoold-sock in system mode, $XDG_RUNTIME_DIR/libvirt/virtkvmtoold-sock in session mode)")
    String socket() default "";

    @AttributeDefinition(description = "Read-only socket for other local users; empty = the read-write socket's path + \"-ro\"")
    String socket__ro() default "";

    @AttributeDefinition(description = "Connections past CONNECT_OPEN, all users together (libvirtd: max_clients)")
    int max__clients() default Limits.MAX_CLIENTS;

    @AttributeDefinition(description = "Connections past CONNECT_OPEN of one user")
    int max__clients__per__uid() default Limits.MAX_CLIENTS_PER_UID;

    @AttributeDefinition(description = "Connections not yet past CONNECT_OPEN; one more makes the stalest go "
            + "(libvirtd: max_anonymous_clients)")
    int max__anonymous__clients() default Limits.MAX_ANONYMOUS_CLIENTS;

    @AttributeDefinition(description = "Seconds a connection may take to CONNECT_OPEN before it is dropped")
    int open__timeout__seconds() default Limits.OPEN_TIMEOUT_SECONDS;

    @AttributeDefinition(description = "Threads running calls, for all connections (libvirtd: max_workers)")
    int max__workers() default Limits.MAX_WORKERS;

    @AttributeDefinition(description = "Calls of one connection read and not yet answered; beyond, the server "
            + "reads no more from it (libvirtd: max_client_requests)")
    int max__client__requests() default Limits.MAX_CLIENT_REQUESTS;

    @AttributeDefinition(description = "The longest frame read, bytes, length word included; at most 33554436 "
            + "(libvirt's VIR_NET_MESSAGE_MAX + 4). Default: libvirt's longest string (REMOTE_STRING_MAX) + 64 KiB")
    int max__message__bytes() default Limits.MAX_MESSAGE_BYTES;

    @AttributeDefinition(description = "Bytes all connections together may hold in frames being read, calls "
            + "waiting and replies waiting; a connection that cannot get its share is dropped")
    long max__buffer__bytes() default Limits.MAX_BUFFER_BYTES;

    @AttributeDefinition(description = "Bytes waiting to be written to one client; a client that lets more pile "
            + "up is not reading and is dropped")
    long max__client__queue__bytes() default Limits.MAX_CLIENT_QUEUE_BYTES;

    @AttributeDefinition(description = "Connections the kernel holds before they are accepted (libvirtd: max_queued_clients)")
    int max__queued__clients() default Limits.MAX_QUEUED_CLIENTS;
}
