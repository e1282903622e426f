package org.kvmtool.manager.rpc;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.logging.Logger;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.KvmtoolException;

/** The console streams of one connection, by the serial of the OPEN_CONSOLE call that opened each. */
final class ConsoleStreams {
    private static final Logger LOG = Logger.getLogger(ConsoleStreams.class.getName());

    private final DomainDriver driver;
    private final Consumer<Packet> send;
    private final Map<Integer, ConsoleStream> streams = new ConcurrentHashMap<>();
    private volatile ConsoleStream pending;

    ConsoleStreams(DomainDriver driver, Consumer<Packet> send) {
        this.driver = driver;
        this.send = send;
    }

    /** Attaches the domain's console; its bytes flow once {@link #startPending} is called. */
    void open(Packet call, String domain, boolean force) {
        ConsoleStream s = new ConsoleStream(
                data -> send.accept(call.answer(Packet.STREAM, Packet.CONTINUE, data)),
                () -> send.accept(call.answer(Packet.STREAM, Packet.CONTINUE, new byte[0])));
        s.attached(driver.attachConsole(domain, force, s));
        streams.put(call.serial(), s);
        pending = s;
    }

    /** The reply of the call that opened a stream is queued: the console's bytes may follow it now. */
    void startPending() {
        ConsoleStream s = pending;
        if (s != null) {
            pending = null;
            s.start();
        }
    }

    /** Client-side STREAM packets of a console: data, finish (OK) or abort (ERROR). */
    void received(Packet p) {
        ConsoleStream s = streams.get(p.serial());
        if (s == null) {
            return;
        }
        if (p.status() == Packet.CONTINUE) {
            try {
                s.write(p.payload());
            } catch (KvmtoolException e) {
                LOG.fine("rpc: console input dropped: " + e.getMessage());
            }
            return;
        }
        streams.remove(p.serial());
        s.close();
        if (p.status() == Packet.OK) {
            send.accept(p.answer(Packet.STREAM, Packet.OK, new byte[0]));
        }
    }

    void closeAll() {
        streams.values().forEach(ConsoleStream::close);
        streams.clear();
    }
}
