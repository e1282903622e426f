package org.kvmtool.manager.api;

/**
 * Receives every lifecycle event of every domain, in order. Called on the driver's event thread:
 * must not block and must not call back into the driver synchronously.
 */
@FunctionalInterface
public interface DomainEventListener {
    void onEvent(DomainEvent event);
}
