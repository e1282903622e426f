package org.kvmtool.manager.rpc;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainEvent;
import org.kvmtool.manager.api.DomainEventListener;
import org.kvmtool.manager.api.DomainInfo;

/**
 * The lifecycle event callbacks of one connection: the new style (one id per callback, optionally for one
 * domain) and the legacy REGISTER_ANY. Listens to the driver while at least one is registered.
 */
final class EventCallbacks implements DomainEventListener {
    private final DomainDriver driver;
    /** Takes a frame to be made later, off the driver's event thread (which must not call the driver). */
    private final Consumer<Supplier<byte[]>> push;
    private final AtomicInteger nextCallback = new AtomicInteger(1);
    /** callback id -> the domain it is limited to, or the uuid of nothing ("all") */
    private final Map<Integer, Filter> callbacks = new ConcurrentHashMap<>();
    private volatile boolean legacyEvents;

    private record Filter(UUID uuid) {
        boolean accepts(DomainEvent e) {
            return uuid == null || uuid.equals(e.uuid());
        }
    }

    EventCallbacks(DomainDriver driver, Consumer<Supplier<byte[]>> push) {
        this.driver = driver;
        this.push = push;
    }

    /** See {@link Session#registerLifecycle}. */
    int register(DomainInfo domain, boolean legacy) {
        if (callbacks.isEmpty() && !legacyEvents) {
            driver.addListener(this);
        }
        if (legacy) {
            legacyEvents = true;
            return -1;
        }
        int id = nextCallback.getAndIncrement();
        callbacks.put(id, new Filter(domain == null ? null : domain.uuid()));
        return id;
    }

    void deregister(int callbackId) {
        if (callbacks.remove(callbackId) == null) {
            throw new RpcException(RpcException.VIR_ERR_RPC, "no callback with id " + callbackId);
        }
        stopIfUnused();
    }

    void deregisterLegacy() {
        legacyEvents = false;
        stopIfUnused();
    }

    /** The connection ends: no more events. */
    void close() {
        driver.removeListener(this);
    }

    private void stopIfUnused() {
        if (callbacks.isEmpty() && !legacyEvents) {
            driver.removeListener(this);
        }
    }

    /** Driver event thread: only enqueue; the lookup for the push happens later. */
    @Override
    public void onEvent(DomainEvent event) {
        for (Map.Entry<Integer, Filter> cb : callbacks.entrySet()) {
            if (cb.getValue().accepts(event)) {
                int id = cb.getKey();
                push.accept(() -> eventPacket(event, id).encode());
            }
        }
        if (legacyEvents) {
            push.accept(() -> eventPacket(event, -1).encode());
        }
    }

    private Packet eventPacket(DomainEvent e, int callbackId) {
        XdrOut out = new XdrOut();
        if (callbackId >= 0) {
            out.writeInt(callbackId);
        }
        DomainInfo d = driver.lookupByUuid(e.uuid()).orElse(null);
        if (d != null) {
            Dispatcher.writeDomain(out, d);
        } else {
            ByteBuffer b = ByteBuffer.allocate(16);
            b.putLong(e.uuid().getMostSignificantBits()).putLong(e.uuid().getLeastSignificantBits());
            out.writeString(e.name()).writeFixedOpaque(b.array()).writeInt(-1);
        }
        out.writeInt(e.event().libvirtCode()).writeInt(Math.max(0, e.event().detailCode(e.detail())));
        int proc = callbackId >= 0 ? Proc.DOMAIN_EVENT_CALLBACK_LIFECYCLE : Proc.DOMAIN_EVENT_LIFECYCLE;
        return new Packet(Packet.REMOTE_PROGRAM, Packet.VERSION, proc, Packet.MESSAGE, 0, Packet.OK, out.toByteArray());
    }
}
