package org.kvmtool.manager.jmx;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

import javax.management.MBeanNotificationInfo;
import javax.management.Notification;
import javax.management.NotificationBroadcasterSupport;

/** A NotificationBroadcasterSupport that numbers what it sends. Synchronous: the events thread delivers. */
final class Emitter extends NotificationBroadcasterSupport {
    private final AtomicLong sequence = new AtomicLong();

    Emitter(MBeanNotificationInfo[] info) {
        super(info);
    }

    void send(LongFunction<Notification> notification) {
        sendNotification(notification.apply(sequence.incrementAndGet()));
    }
}
