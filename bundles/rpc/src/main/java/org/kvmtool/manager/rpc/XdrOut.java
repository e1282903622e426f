package org.kvmtool.manager.rpc;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * XDR encoding (RFC 4506) as libvirt's RPC uses it: big-endian 4-byte units; char, short, bool and int
 * all take a full word; strings and opaques are padded to a multiple of 4.
 */
final class XdrOut {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(128);

    XdrOut writeInt(int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
        return this;
    }

    XdrOut writeHyper(long v) {
        writeInt((int) (v >>> 32));
        return writeInt((int) v);
    }

    XdrOut writeBool(boolean v) {
        return writeInt(v ? 1 : 0);
    }

    /** A non-null string: length, bytes, padding. */
    XdrOut writeString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        writeInt(b.length);
        return writeFixedOpaque(b);
    }

    /** libvirt's remote_string: a pointer (0 = NULL, 1 = present) and the string. */
    XdrOut writeOptionalString(String s) {
        if (s == null) {
            return writeInt(0);
        }
        writeInt(1);
        return writeString(s);
    }

    /** opaque[n]: the bytes and padding, no length. */
    XdrOut writeFixedOpaque(byte[] b) {
        out.write(b, 0, b.length);
        for (int pad = (4 - b.length % 4) % 4; pad > 0; pad--) {
            out.write(0);
        }
        return this;
    }

    XdrOut writeRaw(byte[] b) {
        out.write(b, 0, b.length);
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }
}
