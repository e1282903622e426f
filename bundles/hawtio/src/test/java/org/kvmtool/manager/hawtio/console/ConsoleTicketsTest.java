package org.kvmtool.manager.hawtio.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import javax.security.auth.Subject;

import org.junit.jupiter.api.Test;

class ConsoleTicketsTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final ConsoleTickets tickets = new ConsoleTickets(30, 3, now::get, new SecureRandom());
    private final Subject alice = new Subject();

    @Test
    void aTicketServesOnceForItsDomainWithinItsTime() {
        String t = tickets.issue(alice, "vm1");
        assertEquals(43, t.length(), "256 random bits, base64url without padding: " + t);
        assertTrue(t.matches("[A-Za-z0-9_-]+"), "safe in a URL as it is: " + t);
        assertSame(alice, tickets.redeem(t, "vm1").orElseThrow());
        assertEquals(Optional.empty(), tickets.redeem(t, "vm1"), "used up");
    }

    @Test
    void anotherDomainUsesItUpWithoutAdmitting() {
        String t = tickets.issue(alice, "vm1");
        assertEquals(Optional.empty(), tickets.redeem(t, "vm2"));
        assertEquals(Optional.empty(), tickets.redeem(t, "vm1"), "a wrong guess burns the ticket");
    }

    @Test
    void anExpiredTicketAdmitsNobodyAndIsForgotten() {
        String t = tickets.issue(alice, "vm1");
        now.addAndGet(30);
        String fresh = tickets.issue(alice, "vm1");
        assertTrue(tickets.redeem(fresh, "vm1").isPresent());
        String late = tickets.issue(alice, "vm1");
        now.addAndGet(31);
        assertEquals(Optional.empty(), tickets.redeem(late, "vm1"));
        assertEquals(Optional.empty(), tickets.redeem(t, "vm1"));
        assertEquals(0, tickets.outstanding());
        assertEquals(Optional.empty(), tickets.redeem(null, "vm1"));
    }

    @Test
    void unusedTicketsAreBoundedTheOldestGoingFirst() {
        String first = tickets.issue(alice, "vm1");
        Set<String> seen = new HashSet<>(Set.of(first));
        for (int i = 0; i < 3; i++) {
            assertTrue(seen.add(tickets.issue(alice, "vm1")), "every ticket differs");
        }
        assertEquals(3, tickets.outstanding());
        assertEquals(Optional.empty(), tickets.redeem(first, "vm1"), "the oldest made room");
        assertNotEquals(first, tickets.issue(alice, "vm1"));
    }
}
