package org.kvmtool.manager.rpc;

/**
 * One libvirt RPC message: the header (prog, vers, proc, type, serial, status) and its payload. On the
 * wire a 4-byte length (counting itself) precedes the 24-byte header.
 */
record Packet(int prog, int vers, int proc, int type, int serial, int status, byte[] payload) {
    static final int REMOTE_PROGRAM = 0x20008086;
    static final int KEEPALIVE_PROGRAM = 0x6b656570;
    static final int VERSION = 1;

    static final int CALL = 0;
    static final int REPLY = 1;
    static final int MESSAGE = 2;
    static final int STREAM = 3;

    static final int OK = 0;
    static final int ERROR = 1;
    static final int CONTINUE = 2;

    /** The length word and the header (VIR_NET_MESSAGE_LEN_MAX + VIR_NET_MESSAGE_HEADER_MAX). */
    static final int HEADER_BYTES = 28;

    /** A reply (or stream packet) to this call: same prog, vers, proc and serial. */
    Packet answer(int newType, int newStatus, byte[] body) {
        return new Packet(prog, vers, proc, newType, serial, newStatus, body);
    }

    byte[] encode() {
        XdrOut out = new XdrOut();
        out.writeInt(HEADER_BYTES + payload.length).writeInt(prog).writeInt(vers).writeInt(proc)
                .writeInt(type).writeInt(serial).writeInt(status).writeRaw(payload);
        return out.toByteArray();
    }

    /** Decodes a whole frame (length word included). */
    static Packet decode(byte[] frame) {
        XdrIn in = new XdrIn(frame, 0);
        int len = in.readInt();
        if (len != frame.length) {
            throw RpcException.malformed("frame length " + len + " != " + frame.length);
        }
        int prog = in.readInt();
        int vers = in.readInt();
        int proc = in.readInt();
        int type = in.readInt();
        int serial = in.readInt();
        int status = in.readInt();
        return new Packet(prog, vers, proc, type, serial, status, in.rest());
    }

    XdrIn body() {
        return new XdrIn(payload, 0);
    }
}
