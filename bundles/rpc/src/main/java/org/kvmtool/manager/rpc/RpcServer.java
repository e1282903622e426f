package org.kvmtool.manager.rpc;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
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
 * SO_PEERCRED; the read-only socket admits every local user to the read-only procedures.
 */
@Component(service = RpcServer.class, immediate = true, configurationPid = "org.kvmtool.manager.rpc",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = RpcConfig.class)
public class RpcServer {
    private static final Logger LOG = Logger.getLogger(RpcServer.class.getName());

    private final DomainDriver driver;
    private final Dispatcher dispatcher;
    private final String owner;
    private final List<Listener> listeners;
    private final Set<ClientConnection> clients = ConcurrentHashMap.newKeySet();
    private final ThreadFactory threads;

    private record Listener(Path path, boolean readOnly, ServerSocketChannel channel) {
    }

    @Activate
    public RpcServer(@Reference DomainDriver driver, @Reference HostService host, RpcConfig config) throws IOException {
        this(driver, host, config.enabled() ? socketOf(config, driver) : null,
                config.socket_ro().isBlank() ? null : Path.of(config.socket_ro()));
    }

    /** Without host facts: the host procedures answer NO_SUPPORT (tests of the other procedures). */
    RpcServer(DomainDriver driver, Path socket, Path readOnlySocket) throws IOException {
        this(driver, null, socket, readOnlySocket);
    }

    RpcServer(DomainDriver driver, HostService host, Path socket, Path readOnlySocket) throws IOException {
        this.driver = driver;
        this.dispatcher = new Dispatcher(driver, host, RpcServer::hostname);
        this.owner = Files.getOwner(Path.of("/proc/self")).getName();
        AtomicInteger n = new AtomicInteger();
        this.threads = r -> {
            Thread t = new Thread(r, "kvmtool-rpc-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        if (socket == null) {
            this.listeners = List.of();
            return;
        }
        Listener rw = listen(socket, false);
        Listener ro;
        try {
            ro = listen(readOnlySocket != null ? readOnlySocket : SocketPaths.readOnlyOf(socket), true);
        } catch (IOException | RuntimeException e) {
            close(rw);
            throw e;
        }
        this.listeners = List.of(rw, ro);
        listeners.forEach(l -> threads.newThread(() -> acceptLoop(l)).start());
        LOG.info("rpc: serving libvirt clients on " + rw.path() + " (read-only: " + ro.path() + ")");
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
        return listeners.stream().filter(l -> !l.readOnly()).map(Listener::path).findFirst();
    }

    private static Listener listen(Path path, boolean readOnly) throws IOException {
        Files.createDirectories(path.getParent());
        removeStale(path);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(readOnly ? "rw-rw-rw-" : "rw-------"));
        } catch (IOException e) {
            ch.close();
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot listen on " + path + ": " + e.getMessage(), e);
        }
        return new Listener(path, readOnly, ch);
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

    private void acceptLoop(Listener l) {
        while (l.channel().isOpen()) {
            try {
                SocketChannel client = l.channel().accept();
                String user = PeerCredentials.user(client).orElse("?");
                if (!l.readOnly() && !user.equals(owner)) {
                    LOG.warning("rpc: refused user '" + user + "' on the read-write socket " + l.path()
                            + " (only '" + owner + "'; others may use the read-only socket)");
                    client.close();
                    continue;
                }
                ClientConnection[] self = new ClientConnection[1];
                self[0] = new ClientConnection(client, user, l.readOnly(), driver, dispatcher,
                        () -> clients.remove(self[0]));
                clients.add(self[0]);
                self[0].start(threads);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOG.log(Level.WARNING, "rpc: accept on " + l.path() + " failed", e);
            }
        }
    }

    @Deactivate
    public void close() {
        listeners.forEach(RpcServer::close);
        List.copyOf(clients).forEach(ClientConnection::close);
    }

    private static void close(Listener l) {
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
