package org.kvmtool.manager.rpc;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Who may stay connected, as libvirtd's max_clients and max_anonymous_clients decide it, plus a share per
 * user. A connection is anonymous from accept until its CONNECT_OPEN: at most {@code maxAnonymous} of them,
 * each for at most the open timeout. When one more arrives, the stalest anonymous one makes room: one that
 * has not sent a whole frame before one that has, then the oldest. So idle half-open connections cannot keep
 * out a client that talks (libvirtd stops accepting instead, and waits); the server reads the anonymous ones
 * just before it chooses, so that a client whose first call has come is not taken for an idle one. An
 * opened connection counts against {@code maxClients} and its user's {@code maxClientsPerUid}; beyond them
 * CONNECT_OPEN is refused.
 *
 * @param <C> a connection
 */
final class Admission<C extends Admission.Client> {

    /** What admission needs to know of a connection. */
    interface Client {
        /** The peer's user (SO_PEERCRED). */
        String user();

        /** System.nanoTime() at accept. */
        long acceptedNanos();

        /** Whole frames received so far. */
        int framesRead();
    }

    private final Limits limits;
    /** In accept order. */
    private final Set<C> anonymous = new LinkedHashSet<>();
    private final Set<C> opened = new LinkedHashSet<>();
    private final Map<String, Integer> openedByUser = new HashMap<>();

    Admission(Limits limits) {
        this.limits = limits;
    }

    /** True when a new connection will cost an anonymous one its place (or be refused). */
    synchronized boolean anonymousFull() {
        return anonymous.size() >= limits.maxAnonymousClients();
    }

    synchronized List<C> anonymous() {
        return List.copyOf(anonymous);
    }

    /** A new connection. Returns the anonymous one that must make room for it, if any. */
    synchronized Optional<C> accepted(C c) {
        Optional<C> stalest = Optional.empty();
        if (anonymous.size() >= limits.maxAnonymousClients()) {
            stalest = anonymous.stream().min(Comparator.comparing((C a) -> a.framesRead() > 0)
                    .thenComparingLong(Client::acceptedNanos));
            stalest.ifPresent(anonymous::remove);
        }
        anonymous.add(c);
        return stalest;
    }

    /** CONNECT_OPEN: the connection leaves the anonymous ones, or is refused (and stays anonymous). */
    synchronized void open(C c) {
        if (opened.contains(c)) {
            return;
        }
        if (opened.size() >= limits.maxClients()) {
            throw new RpcException(RpcException.VIR_ERR_RPC, "too many active clients (" + opened.size()
                    + ", max_clients), dropping connection");
        }
        int mine = openedByUser.getOrDefault(c.user(), 0);
        if (mine >= limits.maxClientsPerUid()) {
            throw new RpcException(RpcException.VIR_ERR_RPC, "too many active clients of user '" + c.user()
                    + "' (" + mine + ", max_clients_per_uid), dropping connection");
        }
        anonymous.remove(c);
        opened.add(c);
        openedByUser.merge(c.user(), 1, Integer::sum);
    }

    /** The anonymous connections accepted longer than the open timeout ago: to be closed. */
    synchronized List<C> overdue(long nowNanos) {
        List<C> out = new ArrayList<>();
        for (C c : anonymous) {
            if (nowNanos - c.acceptedNanos() > limits.openTimeoutNanos()) {
                out.add(c);
            }
        }
        return out;
    }

    synchronized void closed(C c) {
        anonymous.remove(c);
        if (opened.remove(c)) {
            openedByUser.computeIfPresent(c.user(), (u, n) -> n > 1 ? n - 1 : null);
        }
    }

    synchronized int anonymousCount() {
        return anonymous.size();
    }

    synchronized int openedCount() {
        return opened.size();
    }
}
