package org.kvmtool.manager.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** max_anonymous_clients, open_timeout_seconds, max_clients and max_clients_per_uid. */
class AdmissionTest {
    static final class C implements Admission.Client {
        final String user;
        final long accepted;
        int frames;

        C(String user, long accepted) {
            this.user = user;
            this.accepted = accepted;
        }

        @Override
        public String user() {
            return user;
        }

        @Override
        public long acceptedNanos() {
            return accepted;
        }

        @Override
        public int framesRead() {
            return frames;
        }
    }

    private static Limits limits(int clients, int perUid, int anonymous, long openMillis) {
        Limits d = Limits.DEFAULTS;
        return new Limits(clients, perUid, anonymous, openMillis, d.maxWorkers(), d.maxClientRequests(),
                d.maxMessageBytes(), d.maxBufferBytes(), d.maxClientQueueBytes(), d.maxQueuedClients());
    }

    @Test
    void aNewConnectionEvictsTheStalestAnonymousOne() {
        Admission<C> a = new Admission<>(limits(10, 10, 3, 5000));
        C talked = new C("u", 1);
        talked.frames = 2;
        C idleOld = new C("u", 2);
        C idleNew = new C("u", 3);
        assertEquals(Optional.empty(), a.accepted(talked));
        assertEquals(Optional.empty(), a.accepted(idleOld));
        assertEquals(Optional.empty(), a.accepted(idleNew));
        // one that sent no whole frame goes before one that did, the oldest first
        assertEquals(Optional.of(idleOld), a.accepted(new C("u", 4)));
        assertEquals(Optional.of(idleNew), a.accepted(new C("u", 5)));
        assertEquals(3, a.anonymousCount());
        assertTrue(a.anonymousFull());
    }

    @Test
    void anOpenedConnectionIsNoLongerAnonymous() {
        Admission<C> a = new Admission<>(limits(10, 10, 1, 5000));
        C first = new C("u", 1);
        a.accepted(first);
        a.open(first);
        assertEquals(Optional.empty(), a.accepted(new C("u", 2)), "an opened client is never evicted");
        assertEquals(1, a.openedCount());
    }

    @Test
    void maxClientsAndMaxClientsPerUidRefuseTheOpen() {
        Admission<C> a = new Admission<>(limits(3, 2, 20, 5000));
        C[] alice = {new C("alice", 1), new C("alice", 2), new C("alice", 3)};
        for (C c : alice) {
            a.accepted(c);
        }
        a.open(alice[0]);
        a.open(alice[1]);
        RpcException perUid = assertThrows(RpcException.class, () -> a.open(alice[2]));
        assertTrue(perUid.getMessage().contains("max_clients_per_uid"), perUid.getMessage());
        C bob = new C("bob", 4);
        a.accepted(bob);
        a.open(bob);
        C carol = new C("carol", 5);
        a.accepted(carol);
        RpcException total = assertThrows(RpcException.class, () -> a.open(carol));
        assertTrue(total.getMessage().contains("max_clients"), total.getMessage());
        a.closed(alice[0]);
        a.open(alice[2]);
        assertEquals(3, a.openedCount());
    }

    @Test
    void anonymousConnectionsAreOverdueAfterTheOpenTimeout() {
        Admission<C> a = new Admission<>(limits(10, 10, 20, 1000));
        long ms = 1_000_000;
        C early = new C("u", 0);
        C late = new C("u", 900 * ms);
        C opened = new C("u", 0);
        a.accepted(early);
        a.accepted(late);
        a.accepted(opened);
        a.open(opened);
        assertEquals(List.of(), a.overdue(1000 * ms));
        assertEquals(List.of(early), a.overdue(1001 * ms));
        a.closed(early);
        assertEquals(List.of(late), a.overdue(2000 * ms));
    }
}
