package org.kvmtool.manager.rpc;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.HostService;
import org.kvmtool.manager.api.KvmtoolException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

/**
 * libvirt's RPC protocol on UNIX sockets, so that an unmodified virsh is a client. The read-write socket
 * admits only the manager's own user (root in system mode, the owner in session mode), checked with
 * SO_PEERCRED; the read-only socket admits every local user to the read-only procedures. Every local user can
 * reach the read-only one, so it is held to {@link Limits} (connections, frames, buffers, workers) and served by
 * an {@link IoLoop} that no client can stop.
 */
@Component(service = RpcServer.class, immediate = true, configurationPid = "org.kvmtool.manager.rpc",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = RpcConfig.class)
public class RpcServer {
    private static final Logger LOG = Logger.getLogger(RpcServer.class.getName());

    private final List<IoLoop.Listener> listeners;
    private final IoLoop loop;

    @Activate
    public RpcServer(@Reference DomainDriver driver, @Reference HostService host, RpcConfig config) throws IOException {
        this(driver, host, config.enabled() ? socketOf(config, driver) : null,
                config.socket__ro().isBlank() ? null : Path.of(config.socket__ro()), Limits.of(config),
                ch -> PeerCredentials.user(ch).orElse("?"));
    }

    /** Without host facts: the host procedures answer NO_SUPPORT (tests of the other procedures). */
    RpcServer(DomainDriver driver, Path socket, Path readOnlySocket) throws IOException {
        this(driver, null, socket, readOnlySocket, Limits.DEFAULTS, ch -> PeerCredentials.user(ch).orElse("?"));
    }

    RpcServer(DomainDriver driver, HostService host, Path socket, Path readOnlySocket) throws IOException {
        this(driver, host, socket, readOnlySocket, Limits.DEFAULTS, ch -> PeerCredentials.user(ch).orElse("?"));
    }

    /** @param credentials the peer's user of an accepted connection (SO_PEERCRED; tests may fail it) */
    RpcServer(DomainDriver driver, HostService host, Path socket, Path readOnlySocket, Limits limits,
              Function<SocketChannel, String> credentials) throws IOException {
        if (socket == null) {
            this.listeners = List.of();
            this.loop = null;
            return;
        }
        IoLoop.Listener rw = listen(socket, false, limits);
        IoLoop.Listener ro = null;
        try {
            ro = listen(readOnlySocket != null ? readOnlySocket : SocketPaths.readOnlyOf(socket), true, limits);
            this.listeners = List.of(rw, ro);
            this.loop = new IoLoop(driver, new Dispatcher(driver, host, RpcServer::hostname),
                    Files.getOwner(Path.of("/proc/self")).getName(), limits, listeners, credentials);
        } catch (IOException | RuntimeException e) {
            close(rw);
            if (ro != null) {
                close(ro);
            }
            throw e;
        }
        LOG.info("rpc: serving libvirt clients on " + rw.path() + " (read-only: " + ro.path() + "), " + limits);
    }

    private static Path socketOf(RpcConfig config, DomainDriver driver) {
        if (!config.socket().isBlank()) {
            return Path.of(config.socket());
        }
        // The environment is read here once: it decides virsh's default path in session mode.
        Map<String, String> env = System.getenv();
        return SocketPaths.defaultSocket(driver.managerInfo().uri(), env);
    }

    /** The socket path of the read-write listener, or empty when disabled. */
    Optional<Path> socket() {
        return listeners.stream().filter(l -> !l.readOnly()).map(IoLoop.Listener::path).findFirst();
    }

    /** The connections, the budget and the threads, for tests. */
    IoLoop loop() {
        return loop;
    }

    private static IoLoop.Listener listen(Path path, boolean readOnly, Limits limits) throws IOException {
        Files.createDirectories(path.getParent());
        removeStale(path);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(path), limits.maxQueuedClients());
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(readOnly ? "rw-rw-rw-" : "rw-------"));
        } catch (IOException e) {
            ch.close();
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot listen on " + path + ": " + e.getMessage(), e);
        }
        return new IoLoop.Listener(path, readOnly, ch);
    }

    /** A socket file nobody answers on is a leftover of a crash; one that answers belongs to a live daemon. */
    private static void removeStale(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID,
                    "another daemon is already listening on " + path);
        } catch (IOException e) {
            Files.deleteIfExists(path);
        }
    }

    @Deactivate
    public void close() {
        listeners.forEach(RpcServer::close);
        if (loop != null) {
            loop.close();
        }
    }

    private static void close(IoLoop.Listener l) {
        try {
            l.channel().close();
            Files.deleteIfExists(l.path());
        } catch (IOException e) {
            LOG.log(Level.FINE, "rpc: close " + l.path(), e);
        }
    }

    static String hostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
