package org.kvmtool.manager.jmx;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainEvent;
import org.kvmtool.manager.api.LifecycleEvent;

/**
 * Sends the notifications of the contract for each driver event: State changes and lifecycle events on the
 * domain's MBean, lifecycle events on the Manager, and the Manager's RecentEvents. Called on the events
 * thread of {@link DomainMBeans}, in event order; {@link #awaitDefinedAfter} is for callers' threads.
 */
final class DomainNotifier {
    private static final Logger LOG = Logger.getLogger(DomainNotifier.class.getName());

    private final RecentEvents recentEvents;
    private final Emitter managerEmitter = new Emitter(Notifications.managerNotifications());
    /** By domain name: the driver's sequence number of the last DEFINED event published; its own monitor. */
    private final Map<String, Long> definedAt = new ConcurrentHashMap<>();

    DomainNotifier(int recentEventsCapacity) {
        this.recentEvents = new RecentEvents(recentEventsCapacity);
    }

    RecentEvents recentEvents() {
        return recentEvents;
    }

    Emitter managerEmitter() {
        return managerEmitter;
    }

    /** The domain's own notifications: a State change if the state moved, then the lifecycle event. */
    void toDomain(DomainRegistrations.Registered domain, DomainEvent event) {
        domain.bean.invalidate();
        String newState = event.state().word();
        String oldState = domain.lastState;
        if (!newState.equals(oldState)) {
            domain.lastState = newState;
            domain.emitter.send(seq -> Notifications.stateChange(domain.name, seq, event.timestampMillis(),
                    oldState, newState));
        }
        domain.emitter.send(seq -> Notifications.lifecycle(domain.name, seq, event));
    }

    /** The Manager's notification and RecentEvents; a DEFINED event releases {@link #awaitDefinedAfter}. */
    void toManager(DomainEvent event) {
        recentEvents.add(Notifications.toComposite(event));
        managerEmitter.send(seq -> Notifications.lifecycle(ObjectNames.MANAGER, seq, event));
        if (event.event() == LifecycleEvent.DEFINED) {
            synchronized (definedAt) {
                definedAt.merge(event.name(), event.sequence(), Math::max);
                definedAt.notifyAll();
            }
        }
    }

    /** The domain's MBean is gone: nobody waits for its DEFINED event any more. */
    void forget(String name) {
        definedAt.remove(name);
    }

    /**
     * Waits (briefly, bounded) until the DEFINED event of a definition made after {@code mark} has been
     * published: a listener a client adds once defineDomain has returned must not receive it.
     */
    void awaitDefinedAfter(String name, long mark) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        synchronized (definedAt) {
            while (definedAt.getOrDefault(name, -1L) <= mark) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    LOG.fine(() -> "kvmtool JMX: the DEFINED event of '" + name + "' has not come yet");
                    return;
                }
                try {
                    definedAt.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
