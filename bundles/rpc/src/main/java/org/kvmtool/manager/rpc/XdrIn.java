package org.kvmtool.manager.rpc;

import java.nio.charset.StandardCharsets;

/** XDR decoding over one received payload; a malformed payload is an {@link RpcException}, never a crash. */
final class XdrIn {
    private final byte[] buf;
    private int pos;

    XdrIn(byte[] buf, int offset) {
        this.buf = buf;
        this.pos = offset;
    }

    int readInt() {
        need(4);
        int v = (buf[pos] & 0xff) << 24 | (buf[pos + 1] & 0xff) << 16 | (buf[pos + 2] & 0xff) << 8 | buf[pos + 3] & 0xff;
        pos += 4;
        return v;
    }

    long readHyper() {
        long hi = readInt() & 0xffffffffL;
        return hi << 32 | readInt() & 0xffffffffL;
    }

    boolean readBool() {
        return readInt() != 0;
    }

    String readString() {
        int len = readInt();
        if (len < 0 || len > ProtocolLimits.STRING_MAX) {
            throw RpcException.malformed("string length " + (len & 0xffffffffL) + " is above REMOTE_STRING_MAX ("
                    + ProtocolLimits.STRING_MAX + ")");
        }
        byte[] b = readFixedOpaque(len);
        return new String(b, StandardCharsets.UTF_8);
    }

    String readOptionalString() {
        return readInt() == 0 ? null : readString();
    }

    /**
     * An element count (of an array, or the most elements a reply may carry), checked against its bound in
     * remote_protocol.x before it is used: libvirt's decoder refuses more too.
     */
    int readCount(int max, String what) {
        int n = readInt();
        if (n < 0 || n > max) {
            throw RpcException.malformed(what + " " + (n & 0xffffffffL) + " is above its limit " + max);
        }
        return n;
    }

    byte[] readFixedOpaque(int len) {
        int padded = len + (4 - len % 4) % 4;
        need(padded);
        byte[] b = new byte[len];
        System.arraycopy(buf, pos, b, 0, len);
        pos += padded;
        return b;
    }

    byte[] rest() {
        byte[] b = new byte[buf.length - pos];
        System.arraycopy(buf, pos, b, 0, b.length);
        pos = buf.length;
        return b;
    }

    private void need(int n) {
        if (n < 0 || pos + n > buf.length) {
            throw RpcException.malformed("payload too short");
        }
    }
}
