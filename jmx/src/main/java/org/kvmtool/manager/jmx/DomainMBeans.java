package org.kvmtool.manager.jmx;

import java.time.Clock;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.MBeanServer;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainEvent;
import org.kvmtool.manager.api.DomainEventListener;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.LifecycleEvent;

/**
 * Keeps the MBean server's kvmtool MBeans in step with the driver: the Manager, and one Domain MBean per
 * domain that exists (a transient one until it stops). Driven by the driver's events plus one full sync.
 * What is registered is {@link DomainRegistrations}' business; what is sent, {@link DomainNotifier}'s.
 *
 * <p>Threading: the driver calls {@link #onEvent} on its event thread, which must neither block nor call
 * back into the driver; so every event is queued to one thread of ours, in order. That thread alone
 * registers, unregisters and sends notifications, and may ask the driver (lookup, list). Listeners in this
 * JVM are called on it, one after another, in event order; a slow listener delays the queue but loses
 * nothing and never delays the driver.
 *
 * <p>Whether a domain's MBean should exist is asked of the driver (lookup) after each event, except where
 * the event itself is the answer (undefined and inactive: gone). A lookup that fails is asked again a little
 * later, a few times: the driver may be between two steps of a job.
 */
final class DomainMBeans implements DomainEventListener, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DomainMBeans.class.getName());
    private static final int RECONCILE_ATTEMPTS = 5;
    private static final long RECONCILE_RETRY_MILLIS = 100;

    private final DomainDriver driver;
    private final ScheduledExecutorService events;
    private final DomainNotifier notifier;
    private final DomainRegistrations registrations;
    /** The driver's sequence number of the last event queued to the events thread. */
    private final AtomicLong lastQueued = new AtomicLong(-1);

    DomainMBeans(DomainDriver driver, MBeanServer server, Clock clock, int recentEventsCapacity,
                 long statsMaxAgeMillis) {
        this.driver = driver;
        this.notifier = new DomainNotifier(recentEventsCapacity);
        this.registrations = new DomainRegistrations(driver, server, clock, statsMaxAgeMillis, notifier::forget);
        ScheduledThreadPoolExecutor thread = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "kvmtool-jmx-events");
            t.setDaemon(true);
            return t;
        });
        thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.events = thread;
    }

    /** Registers the Manager, listens to the driver, then registers every existing domain. */
    void open() {
        ManagerBean manager = new ManagerBean(driver, notifier.recentEvents(), new ManagerBean.Registrar() {
            @Override
            public long mark() {
                return lastQueued.get();
            }

            @Override
            public void defined(String name, long mark) {
                ensureRegistered(name);
                notifier.awaitDefinedAfter(name, mark);
            }

            @Override
            public void created(String name) {
                ensureRegistered(name);
            }
        });
        registrations.registerManager(manager, notifier.managerEmitter());
        driver.addListener(this);
        events.execute(() -> syncAll(0));
    }

    /**
     * Registers a domain's MBean now, on the events thread so that it stays in order with the events: the
     * driver's DEFINED event may still be on its way, and an operation on the new MBean may follow at once.
     */
    void ensureRegistered(String name) {
        try {
            CompletableFuture.runAsync(() -> reconcileOrRetry(name, driver.lookup(name)
                    .map(d -> d.state().word()).orElse("shutoff"), 0), events).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
            LOG.log(Level.WARNING, "kvmtool JMX: the MBean of '" + name + "' is not registered yet", e);
        }
    }

    @Override
    public void onEvent(DomainEvent event) {
        lastQueued.accumulateAndGet(event.sequence(), Math::max);
        try {
            events.execute(() -> handle(event));
        } catch (RejectedExecutionException closing) {
            // closed: the MBeans are going away
        }
    }

    /** Waits until every event queued so far has been handled (tests, and the benchmark). */
    void awaitIdle(long timeout, TimeUnit unit) throws InterruptedException, TimeoutException {
        try {
            CompletableFuture.runAsync(() -> { }, events).get(timeout, unit);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void close() {
        driver.removeListener(this);
        events.shutdown();
        try {
            if (!events.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warning("kvmtool JMX events still being delivered after 10 s; unregistering anyway");
                events.shutdownNow();
            }
        } catch (InterruptedException e) {
            events.shutdownNow();
            Thread.currentThread().interrupt();
        }
        registrations.unregisterAll();
    }

    private void handle(DomainEvent event) {
        try {
            String name = event.name();
            DomainRegistrations.Registered domain = registrations.get(name);
            if (domain == null) {
                domain = reconcileOrRetry(name, event.state().word(), 0);
            }
            if (domain != null) {
                notifier.toDomain(domain, event);
            }
            notifier.toManager(event);
            if (event.event() == LifecycleEvent.UNDEFINED && !event.state().isActive()) {
                registrations.remove(name);
            } else {
                reconcileOrRetry(name, event.state().word(), 0);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "kvmtool JMX: could not handle " + event, e);
        }
    }

    private DomainRegistrations.Registered reconcileOrRetry(String name, String initialState, int attempt) {
        try {
            return registrations.reconcile(name, initialState);
        } catch (RuntimeException e) {
            if (attempt >= RECONCILE_ATTEMPTS) {
                LOG.log(Level.SEVERE, "kvmtool JMX: gave up asking the driver about '" + name + "'", e);
            } else {
                LOG.log(Level.FINE, "kvmtool JMX: asking the driver about '" + name + "' again", e);
                try {
                    events.schedule(() -> reconcileOrRetry(name, initialState, attempt + 1),
                            RECONCILE_RETRY_MILLIS << attempt, TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException closing) {
                    // closed: the MBeans are going away
                }
            }
            return registrations.get(name);
        }
    }

    private void syncAll(int attempt) {
        try {
            Set<String> present = new HashSet<>();
            for (DomainInfo info : driver.list()) {
                present.add(info.name());
                if (!registrations.contains(info.name())) {
                    reconcileOrRetry(info.name(), info.state().word(), 0);
                }
            }
            for (String name : registrations.names()) {
                if (!present.contains(name)) {
                    reconcileOrRetry(name, null, 0);
                }
            }
        } catch (RuntimeException e) {
            if (attempt >= RECONCILE_ATTEMPTS) {
                LOG.log(Level.SEVERE, "kvmtool JMX: could not list the domains; they appear as events come", e);
                return;
            }
            LOG.log(Level.WARNING, "kvmtool JMX: could not list the domains; asking again", e);
            try {
                events.schedule(() -> syncAll(attempt + 1), RECONCILE_RETRY_MILLIS << attempt, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                // closed: the MBeans are going away
            }
        }
    }
}
