package org.kvmtool.manager.jmx;

import javax.management.AttributeChangeNotification;
import javax.management.MBeanNotificationInfo;
import javax.management.Notification;
import javax.management.ObjectName;
import javax.management.openmbean.ArrayType;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.CompositeDataSupport;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.OpenDataException;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;

import org.kvmtool.manager.api.DomainEvent;

/** The notifications of the contract, built from driver events: pure functions. */
final class Notifications {
    /** The type of every lifecycle notification; its message is "EVENT DETAIL", e.g. "stopped crashed". */
    static final String LIFECYCLE = "kvmtool.domain.lifecycle";

    private static final String[] ITEMS = {"name", "uuid", "event", "detail", "state", "reason", "sequence", "timestamp"};
    private static final String[] ITEM_DESCRIPTIONS = {
        "the domain's name", "the domain's UUID", "libvirt's event word: defined, undefined, started, suspended, "
            + "resumed, stopped, shutdown", "libvirt's detail word, e.g. booted, crashed",
        "the domain's state after the event", "the reason for that state", "the driver's event number (increasing)",
        "when the event happened, milliseconds since the epoch"};
    private static final OpenType<?>[] ITEM_TYPES = {SimpleType.STRING, SimpleType.STRING, SimpleType.STRING,
        SimpleType.STRING, SimpleType.STRING, SimpleType.STRING, SimpleType.LONG, SimpleType.LONG};

    /** The userData of a lifecycle notification and the element type of the Manager's RecentEvents. */
    static final CompositeType EVENT_TYPE = eventType();

    /** The Manager's RecentEvents attribute: CompositeData[] of {@link #EVENT_TYPE}. */
    static final ArrayType<CompositeData[]> RECENT_EVENTS_TYPE = arrayOf(EVENT_TYPE);

    private Notifications() {
    }

    static CompositeData toComposite(DomainEvent e) {
        try {
            return new CompositeDataSupport(EVENT_TYPE, ITEMS, new Object[] {
                e.name(), e.uuid().toString(), e.event().word(), e.detail(), e.state().word(), e.reason().word(),
                e.sequence(), e.timestampMillis()});
        } catch (OpenDataException ex) {
            throw new IllegalStateException("event does not fit its own type", ex);
        }
    }

    static Notification lifecycle(ObjectName source, long sequence, DomainEvent e) {
        Notification n = new Notification(LIFECYCLE, source, sequence, e.timestampMillis(), e.message());
        n.setUserData(toComposite(e));
        return n;
    }

    static AttributeChangeNotification stateChange(ObjectName source, long sequence, long timestamp,
                                                   String oldState, String newState) {
        return new AttributeChangeNotification(source, sequence, timestamp, "State " + oldState + " -> " + newState,
                "State", String.class.getName(), oldState, newState);
    }

    static MBeanNotificationInfo[] domainNotifications() {
        return new MBeanNotificationInfo[] {
            new MBeanNotificationInfo(new String[] {AttributeChangeNotification.ATTRIBUTE_CHANGE},
                    AttributeChangeNotification.class.getName(), "The State attribute changed"),
            lifecycleInfo("A lifecycle event of this domain; message \"EVENT DETAIL\", userData the event")};
    }

    static MBeanNotificationInfo[] managerNotifications() {
        return new MBeanNotificationInfo[] {
            lifecycleInfo("A lifecycle event of any domain (also of those defined or removed just now); "
                    + "message \"EVENT DETAIL\", userData the event")};
    }

    private static MBeanNotificationInfo lifecycleInfo(String description) {
        return new MBeanNotificationInfo(new String[] {LIFECYCLE}, Notification.class.getName(), description);
    }

    private static ArrayType<CompositeData[]> arrayOf(CompositeType type) {
        try {
            return new ArrayType<>(1, type);
        } catch (OpenDataException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static CompositeType eventType() {
        try {
            return new CompositeType("kvmtool.DomainEvent", "a domain lifecycle event", ITEMS, ITEM_DESCRIPTIONS,
                    ITEM_TYPES);
        } catch (OpenDataException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
