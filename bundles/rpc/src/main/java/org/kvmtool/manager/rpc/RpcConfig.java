package org.kvmtool.manager.rpc;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "kvmtool-manager libvirt RPC endpoint",
        description = "The UNIX sockets on which virsh and other libvirt clients reach kvmtool-manager")
public @interface RpcConfig {
    @AttributeDefinition(description = "Serve libvirt's RPC protocol")
    boolean enabled() default true;

    @AttributeDefinition(description = "Read-write socket; empty = virsh's default path for the manager's URI "
            + "(/var/run/libvirt/virtkvmtoold-sock in system mode, $XDG_RUNTIME_DIR/libvirt/virtkvmtoold-sock in session mode)")
    String socket() default "";

    @AttributeDefinition(description = "Read-only socket for other local users; empty = the read-write socket's path + \"-ro\"")
    String socket_ro() default "";
}
