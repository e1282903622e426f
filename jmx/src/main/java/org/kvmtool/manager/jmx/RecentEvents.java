package org.kvmtool.manager.jmx;

import java.util.ArrayDeque;

import javax.management.openmbean.CompositeData;

/** The last {@code capacity} lifecycle events, oldest first: the Manager's RecentEvents attribute. */
final class RecentEvents {
    private final int capacity;
    private final ArrayDeque<CompositeData> events;

    RecentEvents(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        }
        this.capacity = capacity;
        this.events = new ArrayDeque<>(capacity);
    }

    synchronized void add(CompositeData event) {
        if (events.size() == capacity) {
            events.removeFirst();
        }
        events.addLast(event);
    }

    synchronized CompositeData[] snapshot() {
        return events.toArray(new CompositeData[0]);
    }
}
