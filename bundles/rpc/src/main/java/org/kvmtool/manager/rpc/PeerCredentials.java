package org.kvmtool.manager.rpc;

import java.io.IOException;
import java.net.SocketOption;
import java.nio.channels.SocketChannel;
import java.nio.file.attribute.UserPrincipal;
import java.util.Optional;

/**
 * Who is at the other end of a UNIX socket: the kernel's SO_PEERCRED, which the JDK exposes as the
 * extended option jdk.net.ExtendedSocketOptions.SO_PEERCRED. It is looked up by name among the channel's
 * options, so this bundle needs no import of the jdk.net module (not exported by every OSGi framework).
 */
final class PeerCredentials {
    private PeerCredentials() {
    }

    /** The peer's user name, or empty if the platform cannot tell. */
    static Optional<String> user(SocketChannel channel) {
        for (SocketOption<?> option : channel.supportedOptions()) {
            if (option.name().equals("SO_PEERCRED")) {
                try {
                    Object principal = channel.getOption(option); // a jdk.net.UnixDomainPrincipal record
                    Object user = principal.getClass().getMethod("user").invoke(principal);
                    return Optional.of(((UserPrincipal) user).getName());
                } catch (IOException | ReflectiveOperationException | RuntimeException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }
}
