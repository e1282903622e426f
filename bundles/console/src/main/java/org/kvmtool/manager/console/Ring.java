package org.kvmtool.manager.console;

/** The latest output of one console, bounded: older bytes are overwritten. Thread-safe. */
final class Ring {
    private final byte[] buf;
    /** Total bytes ever appended; the next byte goes to {@code total % buf.length}. */
    private long total;

    Ring(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("ring capacity must be positive: " + capacity);
        }
        this.buf = new byte[capacity];
    }

    synchronized void append(byte[] data) {
        int len = data.length;
        int from = 0;
        if (len > buf.length) { // only the last capacity bytes can survive
            from = len - buf.length;
            total += from;
            len = buf.length;
        }
        int at = (int) (total % buf.length);
        int first = Math.min(len, buf.length - at);
        System.arraycopy(data, from, buf, at, first);
        System.arraycopy(data, from + first, buf, 0, len - first);
        total += len;
    }

    /** The last {@code maxBytes} bytes (fewer if fewer were ever appended). */
    synchronized byte[] tail(int maxBytes) {
        int len = (int) Math.min(Math.max(maxBytes, 0), Math.min(total, buf.length));
        byte[] out = new byte[len];
        int start = (int) ((total - len) % buf.length);
        int first = Math.min(len, buf.length - start);
        System.arraycopy(buf, start, out, 0, first);
        System.arraycopy(buf, 0, out, first, len - first);
        return out;
    }
}
