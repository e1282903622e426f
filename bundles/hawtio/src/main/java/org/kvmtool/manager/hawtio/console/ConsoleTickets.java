package org.kvmtool.manager.hawtio.console;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

import javax.security.auth.Subject;

/**
 * One-time tickets for the console WebSocket. A browser cannot put an Authorization header on a WebSocket
 * handshake, and the Hawtio session's cookie belongs to Hawtio's web context: so the tab first asks, through
 * Hawtio's Jolokia (which runs the request as the session's JAAS subject), for a ticket naming the domain, and
 * presents it once in the handshake. A ticket proves who asked, for which domain, within {@code ttlNanos}; it
 * grants nothing by itself (the handshake still asks Karaf's JMX ACL). Random 256-bit values, used up by their
 * first presentation, right domain or not. Thread-safe.
 */
final class ConsoleTickets {
    private record Ticket(Subject subject, String domain, long expiresNanos) {
    }

    private final long ttlNanos;
    private final int max;
    private final LongSupplier clock;
    private final SecureRandom random;
    /** In issue order, so the oldest expire first. */
    private final Map<String, Ticket> tickets = new LinkedHashMap<>();

    /**
     * @param max at most this many unused tickets at once: a page that asks in a loop cannot fill the memory
     */
    ConsoleTickets(long ttlNanos, int max, LongSupplier clock, SecureRandom random) {
        this.ttlNanos = ttlNanos;
        this.max = max;
        this.clock = clock;
        this.random = random;
    }

    /** A new ticket for {@code subject} and {@code domain}. */
    synchronized String issue(Subject subject, String domain) {
        long now = clock.getAsLong();
        expire(now);
        if (tickets.size() >= max) {
            // the oldest unused one goes: a flood of requests only shortens the wait for the flooder's own
            Iterator<String> oldest = tickets.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String ticket = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        tickets.put(ticket, new Ticket(subject, domain, now + ttlNanos));
        return ticket;
    }

    /** The subject a ticket was issued to, if it is known, unexpired and for {@code domain}; it is used up. */
    synchronized Optional<Subject> redeem(String ticket, String domain) {
        if (ticket == null) {
            return Optional.empty();
        }
        long now = clock.getAsLong();
        Ticket t = tickets.remove(ticket);
        expire(now);
        if (t == null || now - t.expiresNanos() > 0 || !t.domain().equals(domain)) {
            return Optional.empty();
        }
        return Optional.of(t.subject());
    }

    synchronized int outstanding() {
        return tickets.size();
    }

    private void expire(long now) {
        Iterator<Ticket> it = tickets.values().iterator();
        while (it.hasNext() && now - it.next().expiresNanos() > 0) {
            it.remove();
        }
    }
}
