package org.kvmtool.manager.jmx;

import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanNotificationInfo;
import javax.management.MBeanServer;
import javax.management.Notification;
import javax.management.NotificationBroadcasterSupport;
import javax.management.ObjectName;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainEvent;
import org.kvmtool.manager.api.DomainEventListener;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.LifecycleEvent;

/**
 * Keeps the MBean server's kvmtool MBeans in step with the driver: the Manager, and one Domain MBean per
 * domain that exists (a transient one until it stops). Driven by the driver's events plus one full sync.
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
    private final MBeanServer server;
    private final Clock clock;
    private final long statsMaxAgeMillis;
    private final ScheduledExecutorService events;
    private final RecentEvents recentEvents;
    private final Emitter managerEmitter = new Emitter(Notifications.managerNotifications());
    /** The driver's sequence number of the last event queued to the events thread. */
    private final AtomicLong lastQueued = new AtomicLong(-1);
    /** By domain name: the driver's sequence number of the last DEFINED event published; its own monitor. */
    private final Map<String, Long> definedAt = new java.util.concurrent.ConcurrentHashMap<>();
    /** Registered domain MBeans by domain name; touched only on the events thread (and in close, after it). */
    private final Map<String, Registered> domains = new HashMap<>();

    /** A registered domain MBean; {@code lastState} is the State its last notification announced. */
    private static final class Registered {
        private final ObjectName name;
        private final Emitter emitter;
        private final DomainBean bean;
        private String lastState;

        Registered(ObjectName name, Emitter emitter, DomainBean bean, String lastState) {
            this.name = name;
            this.emitter = emitter;
            this.bean = bean;
            this.lastState = lastState;
        }
    }

    /** A NotificationBroadcasterSupport that numbers what it sends. Synchronous: the events thread delivers. */
    private static final class Emitter extends NotificationBroadcasterSupport {
        private final AtomicLong sequence = new AtomicLong();

        Emitter(MBeanNotificationInfo[] info) {
            super(info);
        }

        void send(LongFunction<Notification> notification) {
            sendNotification(notification.apply(sequence.incrementAndGet()));
        }
    }

    DomainMBeans(DomainDriver driver, MBeanServer server, Clock clock, int recentEventsCapacity,
                 long statsMaxAgeMillis) {
        this.driver = driver;
        this.server = server;
        this.clock = clock;
        this.statsMaxAgeMillis = statsMaxAgeMillis;
        this.recentEvents = new RecentEvents(recentEventsCapacity);
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
        ManagerBean manager = new ManagerBean(driver, recentEvents, new ManagerBean.Registrar() {
            @Override
            public long mark() {
                return lastQueued.get();
            }

            @Override
            public void defined(String name, long mark) {
                ensureRegistered(name);
                awaitDefinedAfter(name, mark);
            }

            @Override
            public void created(String name) {
                ensureRegistered(name);
            }
        });
        register(ObjectNames.MANAGER, new ContractMBean<>(manager, ManagerMXBean.class, managerEmitter,
                ContractTexts.manager(), List.of(), List.of(ContractMBean.ExtraAttribute.readOnly("RecentEvents",
                        Notifications.RECENT_EVENTS_TYPE, ContractTexts.RECENT_EVENTS, manager::recentEvents))));
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
        for (Registered r : domains.values()) {
            unregister(r.name);
        }
        domains.clear();
        unregister(ObjectNames.MANAGER);
    }

    private void handle(DomainEvent event) {
        try {
            String name = event.name();
            Registered domain = domains.get(name);
            if (domain == null) {
                domain = reconcileOrRetry(name, event.state().word(), 0);
            }
            if (domain != null) {
                publish(domain, event);
            }
            recentEvents.add(Notifications.toComposite(event));
            managerEmitter.send(seq -> Notifications.lifecycle(ObjectNames.MANAGER, seq, event));
            if (event.event() == LifecycleEvent.DEFINED) {
                synchronized (definedAt) {
                    definedAt.merge(name, event.sequence(), Math::max);
                    definedAt.notifyAll();
                }
            }
            if (event.event() == LifecycleEvent.UNDEFINED && !event.state().isActive()) {
                remove(name);
            } else {
                reconcileOrRetry(name, event.state().word(), 0);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "kvmtool JMX: could not handle " + event, e);
        }
    }

    private Registered reconcileOrRetry(String name, String initialState, int attempt) {
        try {
            return reconcile(name, initialState);
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
            return domains.get(name);
        }
    }

    private void remove(String name) {
        definedAt.remove(name);
        Registered gone = domains.remove(name);
        if (gone != null) {
            unregister(gone.name);
        }
    }

    private void publish(Registered domain, DomainEvent event) {
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

    /**
     * Makes the MBean of {@code name} exist exactly when the driver has the domain and it is persistent or
     * active. {@code initialState} seeds the State change notifications of a new MBean.
     */
    private Registered reconcile(String name, String initialState) {
        Optional<DomainInfo> info = driver.lookup(name);
        boolean wanted = info.isPresent() && (info.get().persistent() || info.get().isActive());
        Registered current = domains.get(name);
        if (wanted && current == null) {
            current = registerDomain(name, initialState);
        } else if (!wanted && current != null) {
            remove(name);
            current = null;
        }
        return current;
    }

    private void syncAll(int attempt) {
        try {
            Set<String> present = new HashSet<>();
            for (DomainInfo info : driver.list()) {
                present.add(info.name());
                if (!domains.containsKey(info.name())) {
                    reconcileOrRetry(info.name(), info.state().word(), 0);
                }
            }
            for (String name : Set.copyOf(domains.keySet())) {
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

    private Registered registerDomain(String name, String initialState) {
        ObjectName objectName = ObjectNames.domain(name);
        Emitter emitter = new Emitter(Notifications.domainNotifications());
        DomainBean bean = new DomainBean(name, driver, clock, statsMaxAgeMillis);
        ContractMBean<DomainMXBean> mbean = new ContractMBean<>(bean, DomainMXBean.class, emitter,
                ContractTexts.domain(), List.of(ContractMBean.ExtraOperation.voidOfLong("setMemory",
                        ContractTexts.SET_MEMORY, "bytes", "the balloon target, bytes", bean::setMemory)), List.of());
        if (!register(objectName, mbean)) {
            return null;
        }
        Registered registered = new Registered(objectName, emitter, bean, initialState);
        domains.put(name, registered);
        return registered;
    }

    private boolean register(ObjectName name, Object mbean) {
        try {
            server.registerMBean(mbean, name);
            return true;
        } catch (InstanceAlreadyExistsException stale) {
            // left behind by an earlier instance of this component (e.g. a failed deactivation): ours replaces it
            LOG.warning("kvmtool JMX: replacing a stale " + name);
            unregister(name);
            try {
                server.registerMBean(mbean, name);
                return true;
            } catch (JMException e) {
                LOG.log(Level.SEVERE, "kvmtool JMX: could not register " + name, e);
                return false;
            }
        } catch (JMException e) {
            LOG.log(Level.SEVERE, "kvmtool JMX: could not register " + name, e);
            return false;
        }
    }

    private void unregister(ObjectName name) {
        try {
            server.unregisterMBean(name);
        } catch (InstanceNotFoundException gone) {
            // someone else removed it: nothing to do
        } catch (JMException e) {
            LOG.log(Level.WARNING, "kvmtool JMX: could not unregister " + name, e);
        }
    }
}
