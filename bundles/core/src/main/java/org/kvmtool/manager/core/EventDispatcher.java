package org.kvmtool.manager.core;

import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainEvent;
import org.kvmtool.manager.api.DomainEventListener;
import org.kvmtool.manager.api.LifecycleEvent;
import org.kvmtool.manager.api.StateReason;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;

/**
 * Publishes every lifecycle event, in order, on one event thread, so a caller (often a job holder) never
 * blocks on a listener: to the in-process listeners and, when present, on Event Admin
 * (topic {@code kvmtool/domain/EVENT}).
 */
final class EventDispatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EventDispatcher.class.getName());
    private final List<DomainEventListener> listeners = new CopyOnWriteArrayList<>();
    private final EventAdmin eventAdmin;
    private final Clock clock;
    private final AtomicLong sequence = new AtomicLong();
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kvmtool-events");
        t.setDaemon(true);
        return t;
    });

    EventDispatcher(EventAdmin eventAdmin, Clock clock) {
        this.eventAdmin = eventAdmin;
        this.clock = clock;
    }

    void addListener(DomainEventListener l) {
        listeners.add(l);
    }

    void removeListener(DomainEventListener l) {
        listeners.remove(l);
    }

    /** Enqueues the event; the sequence number is taken now, so the order is the order of the calls. */
    synchronized void publish(DomainObject d, LifecycleEvent event, String detail, StateReason after) {
        DomainEvent e = new DomainEvent(d.name, d.uuid, event, detail, after.state(), after,
                sequence.incrementAndGet(), clock.millis());
        try {
            thread.execute(() -> deliver(e));
        } catch (RejectedExecutionException closed) {
            LOG.fine(() -> "event after close dropped: " + e);
        }
    }

    private void deliver(DomainEvent e) {
        for (DomainEventListener l : listeners) {
            try {
                l.onEvent(e);
            } catch (RuntimeException ex) {
                LOG.log(Level.WARNING, "domain event listener " + l + " failed on " + e.message(), ex);
            }
        }
        if (eventAdmin != null) {
            try {
                eventAdmin.postEvent(new Event(e.topic(), properties(e)));
            } catch (RuntimeException ex) {
                LOG.log(Level.WARNING, "Event Admin refused " + e.topic(), ex);
            }
        }
    }

    static Map<String, Object> properties(DomainEvent e) {
        Map<String, Object> p = new HashMap<>();
        p.put("name", e.name());
        p.put("uuid", e.uuid().toString());
        p.put("event", e.event().word());
        p.put("detail", e.detail());
        p.put("state", e.state().word());
        p.put("reason", e.reason().word());
        p.put("sequence", e.sequence());
        p.put("timestamp", e.timestampMillis());
        return p;
    }

    /** Delivers what is queued (bounded wait), then stops the thread. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        thread.shutdownNow();
    }
}
