package org.kvmtool.manager.api;

import java.util.Objects;
import java.util.UUID;

/**
 * One lifecycle transition, as published by the driver to {@link DomainEventListener}s and on Event
 * Admin (topic {@link #TOPIC_PREFIX} + event name). {@code detail} is libvirt's word for it
 * ("booted", "crashed"...); {@code state}/{@code reason} are the domain's after the transition.
 */
public record DomainEvent(String name, UUID uuid, LifecycleEvent event, String detail,
                          DomainState state, StateReason reason, long sequence, long timestampMillis) {
    public static final String TOPIC_PREFIX = "kvmtool/domain/";

    public DomainEvent {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(reason, "reason");
    }

    /** "EVENT DETAIL", e.g. "stopped crashed": the JMX notification message. */
    public String message() {
        return event.word() + " " + detail;
    }

    public String topic() {
        return TOPIC_PREFIX + event.name();
    }
}
