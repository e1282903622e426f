package org.kvmtool.manager.rpc;

import java.io.ByteArrayOutputStream;
import java.util.function.Consumer;

import org.kvmtool.manager.api.ConsoleAttachment;
import org.kvmtool.manager.api.ConsoleListener;

/**
 * A console bridged to a libvirt STREAM. Output that arrives before the OPEN_CONSOLE reply is on its way
 * is held back: virsh must see the reply first, then STREAM packets with the call's serial.
 */
final class ConsoleStream implements ConsoleListener {
    /** Larger chunks gain nothing and make one STREAM packet hog the connection. */
    private static final int CHUNK = 64 * 1024;

    private final Consumer<byte[]> data;
    private final Runnable eof;
    private final ByteArrayOutputStream early = new ByteArrayOutputStream();
    private boolean started;
    private boolean ended;
    private ConsoleAttachment attachment;

    /** {@code data} sends one STREAM CONTINUE packet; {@code eof} sends the empty one that means end. */
    ConsoleStream(Consumer<byte[]> data, Runnable eof) {
        this.data = data;
        this.eof = eof;
    }

    synchronized void attached(ConsoleAttachment a) {
        this.attachment = a;
    }

    @Override
    public synchronized void output(byte[] bytes) {
        if (!started) {
            early.write(bytes, 0, bytes.length);
            return;
        }
        send(bytes);
    }

    @Override
    public synchronized void closed() {
        ended = true;
        if (started) {
            eof.run();
        }
    }

    /** Called once the OPEN_CONSOLE reply is queued. */
    synchronized void start() {
        started = true;
        if (early.size() > 0) {
            send(early.toByteArray());
            early.reset();
        }
        if (ended) {
            eof.run();
        }
    }

    private void send(byte[] bytes) {
        for (int off = 0; off < bytes.length; off += CHUNK) {
            byte[] chunk = new byte[Math.min(CHUNK, bytes.length - off)];
            System.arraycopy(bytes, off, chunk, 0, chunk.length);
            data.accept(chunk);
        }
    }

    void write(byte[] input) {
        ConsoleAttachment a;
        synchronized (this) {
            a = attachment;
        }
        if (a != null && input.length > 0) {
            a.write(input);
        }
    }

    void close() {
        ConsoleAttachment a;
        synchronized (this) {
            a = attachment;
            attachment = null;
        }
        if (a != null) {
            a.close();
        }
    }
}
