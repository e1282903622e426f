package org.kvmtool.manager.rpc;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainDriver;

/**
 * The RPC server's one I/O thread ({@code kvmtool-rpc-io}): accepts on both sockets, reads and writes every
 * connection without blocking, drops connections that do not CONNECT_OPEN in time. Calls run on at most
 * {@code max_workers} threads ({@code kvmtool-rpc-worker-N}, made on demand, gone when idle).
 *
 * <p>Nothing ends this thread but {@link #close}: a failure in one connection (an Error included) closes that
 * connection; a failure at accept (no descriptor left, no memory) is logged and that socket is not accepted
 * on for a back-off (100 ms, doubling up to 5 s); a failure of the loop itself is logged and the loop goes
 * on after the same back-off.
 */
final class IoLoop implements ClientConnection.Server, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(IoLoop.class.getName());
    private static final long SELECT_MILLIS = 250;
    private static final long BACKOFF_FIRST_MILLIS = 100;
    private static final long BACKOFF_MAX_MILLIS = 5000;
    /** Connections accepted per wake-up of one socket, so that a flood of connects cannot starve the others. */
    private static final int ACCEPT_BATCH = 64;
    /** Drops of one kind are logged at most this often, with their count (a hostile client must not flood the log). */
    private static final long DROP_LOG_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final int MAX_DROP_KINDS = 64;

    /** A listening socket; read-only admits every user to the read-only procedures. */
    record Listener(Path path, boolean readOnly, ServerSocketChannel channel) {
    }

    private final DomainDriver driver;
    private final Dispatcher dispatcher;
    private final String owner;
    private final Function<SocketChannel, String> credentials;
    private final Limits limits;
    private final MemoryBudget budget;
    private final ThreadPoolExecutor workers;
    private final Admission<ClientConnection> admission;
    private final Selector selector;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Set<ClientConnection> clients = ConcurrentHashMap.newKeySet();
    /** I/O thread only. */
    private final Map<ClientConnection, SelectionKey> keys = new HashMap<>();
    private final Map<Listener, Long> pausedUntil = new HashMap<>();
    private final Map<Listener, Long> backoff = new HashMap<>();
    private final Map<String, long[]> drops = new ConcurrentHashMap<>();
    private volatile boolean running = true;

    /**
     * @param credentials the peer's user of a new connection (SO_PEERCRED); "?" when unknown
     */
    IoLoop(DomainDriver driver, Dispatcher dispatcher, String owner, Limits limits, List<Listener> listeners,
           Function<SocketChannel, String> credentials) throws IOException {
        this.driver = driver;
        this.dispatcher = dispatcher;
        this.owner = owner;
        this.limits = limits;
        this.credentials = credentials;
        this.budget = new MemoryBudget(limits.maxBufferBytes());
        this.admission = new Admission<>(limits);
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(limits.maxWorkers(), limits.maxWorkers(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> daemon(r, "kvmtool-rpc-worker-" + n.incrementAndGet()));
        workers.allowCoreThreadTimeOut(true);
        this.selector = Selector.open();
        try {
            for (Listener l : listeners) {
                l.channel().configureBlocking(false);
                l.channel().register(selector, SelectionKey.OP_ACCEPT, l);
            }
        } catch (IOException | RuntimeException e) {
            selector.close();
            throw e;
        }
        this.thread = daemon(this::run, "kvmtool-rpc-io");
        thread.start();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    // ------------------------------------------------------------------ ClientConnection.Server

    @Override
    public Limits limits() {
        return limits;
    }

    @Override
    public MemoryBudget budget() {
        return budget;
    }

    @Override
    public Executor workers() {
        return workers;
    }

    @Override
    public void interestChanged(ClientConnection c) {
        if (Thread.currentThread() == thread) {
            updateInterest(c);
        } else {
            tasks.add(() -> updateInterest(c));
            selector.wakeup();
        }
    }

    @Override
    public void open(ClientConnection c) {
        admission.open(c);
    }

    @Override
    public void closed(ClientConnection c, String why) {
        admission.closed(c);
        clients.remove(c);
        if (why != null) {
            dropped(why, c.user());
        }
        tasks.add(() -> keys.remove(c));
        selector.wakeup();
    }

    // ------------------------------------------------------------------ the loop

    private void run() {
        long pause = 0;
        while (running) {
            try {
                selector.select(SELECT_MILLIS);
                runTasks();
                Iterator<SelectionKey> selected = selector.selectedKeys().iterator();
                while (selected.hasNext()) {
                    SelectionKey k = selected.next();
                    selected.remove();
                    handle(k);
                }
                housekeeping(System.nanoTime());
                pause = 0;
            } catch (ClosedSelectorException e) {
                return;
            } catch (Throwable t) {
                pause = pause == 0 ? BACKOFF_FIRST_MILLIS : Math.min(BACKOFF_MAX_MILLIS, 2 * pause);
                LOG.log(Level.SEVERE, "rpc: the I/O loop failed; it goes on in " + pause + " ms", t);
                sleep(pause);
            }
        }
    }

    private void runTasks() {
        for (Runnable r = tasks.poll(); r != null; r = tasks.poll()) {
            r.run();
        }
    }

    private void handle(SelectionKey k) {
        if (k.attachment() instanceof Listener l) {
            acceptAll(l, k);
            return;
        }
        ClientConnection c = (ClientConnection) k.attachment();
        serve(c, () -> {
            if (k.isReadable()) {
                c.onReadable();
            }
            if (k.isValid() && k.isWritable()) {
                c.onWritable();
            }
        });
    }

    private interface Io {
        void run() throws IOException;
    }

    /** Runs one connection's I/O; whatever it throws ends that connection and nothing else. */
    private void serve(ClientConnection c, Io io) {
        try {
            io.run();
            updateInterest(c);
        } catch (EOFException | ClosedChannelException | CancelledKeyException e) {
            c.close(null);
        } catch (RpcException e) {
            c.close(e.getMessage());
        } catch (IOException e) {
            c.close("read failed: " + e.getMessage());
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "rpc: the connection of " + c.user() + " ends on an unexpected failure", t);
            c.close(t.toString());
        }
    }

    private void updateInterest(ClientConnection c) {
        SelectionKey k = keys.get(c);
        if (k == null || !k.isValid()) {
            return;
        }
        int ops = (c.wantsRead() ? SelectionKey.OP_READ : 0) | (c.wantsWrite() ? SelectionKey.OP_WRITE : 0);
        try {
            if (k.interestOps() != ops) {
                k.interestOps(ops);
            }
        } catch (CancelledKeyException closedMeanwhile) {
            // the connection closed on another thread: its task removes the key
        }
    }

    private void acceptAll(Listener l, SelectionKey k) {
        for (int i = 0; i < ACCEPT_BATCH; i++) {
            SocketChannel ch;
            try {
                ch = l.channel().accept();
            } catch (ClosedChannelException e) {
                k.cancel();
                return;
            } catch (Throwable t) {
                pauseAccept(l, k, t);
                return;
            }
            if (ch == null) {
                backoff.remove(l);
                return;
            }
            try {
                admit(ch, l);
            } catch (Throwable t) {
                closeQuietly(ch);
                pauseAccept(l, k, t);
                return;
            }
        }
    }

    private void admit(SocketChannel ch, Listener l) throws IOException {
        String user = credentials.apply(ch);
        if (!l.readOnly() && !user.equals(owner)) {
            dropped("user not admitted on the read-write socket " + l.path() + " (only '" + owner
                    + "'; others may use the read-only socket)", user);
            ch.close();
            return;
        }
        ch.configureBlocking(false);
        ClientConnection c = new ClientConnection(ch, user, l.readOnly(), driver, dispatcher, this, System.nanoTime());
        clients.add(c);
        try {
            keys.put(c, ch.register(selector, SelectionKey.OP_READ, c));
        } catch (IOException | RuntimeException e) {
            c.close("cannot watch it: " + e);
            return;
        }
        if (admission.anonymousFull()) {
            // a client whose first call is already here must not lose its place for not being read yet
            for (ClientConnection a : admission.anonymous()) {
                if (a.framesRead() == 0) {
                    serve(a, a::onReadable);
                }
            }
        }
        admission.accepted(c).ifPresent(stale -> stale.close("it made room for a newer connection: "
                + limits.maxAnonymousClients() + " were not past CONNECT_OPEN (max_anonymous_clients)"));
    }

    /** An accept failed (no descriptor left, no memory...): this socket rests a while, the rest goes on. */
    private void pauseAccept(Listener l, SelectionKey k, Throwable t) {
        long pause = Math.min(BACKOFF_MAX_MILLIS, 2 * backoff.getOrDefault(l, BACKOFF_FIRST_MILLIS / 2));
        backoff.put(l, pause);
        pausedUntil.put(l, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pause));
        try {
            k.interestOps(0);
        } catch (CancelledKeyException closed) {
            // closing
        }
        LOG.log(Level.SEVERE, "rpc: accept on " + l.path() + " failed; accepting again in " + pause + " ms", t);
    }

    private void housekeeping(long now) {
        for (ClientConnection c : admission.overdue(now)) {
            c.close("no CONNECT_OPEN within " + limits.openTimeoutMillis() + " ms of accept (open_timeout_seconds)");
        }
        for (Iterator<Map.Entry<Listener, Long>> it = pausedUntil.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Listener, Long> e = it.next();
            if (now - e.getValue() >= 0) {
                it.remove();
                SelectionKey k = e.getKey().channel().keyFor(selector);
                if (k != null && k.isValid()) {
                    k.interestOps(SelectionKey.OP_ACCEPT);
                }
            }
        }
    }

    /** Each kind of drop is logged at most once a minute, with how many there were. */
    private void dropped(String why, String user) {
        LOG.fine(() -> "rpc: dropped a connection of " + user + ": " + why);
        String kind = drops.size() < MAX_DROP_KINDS ? why.replaceAll("[0-9]+", "N") : "other";
        long now = System.nanoTime();
        long[] seen = drops.computeIfAbsent(kind, k -> new long[] {now - DROP_LOG_NANOS, 0});
        synchronized (seen) {
            seen[1]++;
            if (now - seen[0] >= DROP_LOG_NANOS) {
                LOG.warning("rpc: dropped " + seen[1] + " connection(s) in the last minute, the last of user '"
                        + user + "': " + why);
                seen[0] = now;
                seen[1] = 0;
            }
        }
    }

    // ------------------------------------------------------------------ tests, figures

    int clientCount() {
        return clients.size();
    }

    Admission<ClientConnection> admission() {
        return admission;
    }

    /** Worker threads made so far, at most max_workers. */
    int largestWorkerCount() {
        return workers.getLargestPoolSize();
    }

    boolean isAlive() {
        return thread.isAlive();
    }

    @Override
    public void close() {
        running = false;
        selector.wakeup();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List.copyOf(clients).forEach(c -> c.close(null));
        // no interrupt: a call under way finishes (an interrupt would close the driver's open files under it)
        workers.shutdown();
        try {
            selector.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "rpc: close selector", e);
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "rpc: close", e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
