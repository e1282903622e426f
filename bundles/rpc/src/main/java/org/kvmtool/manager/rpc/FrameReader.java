package org.kvmtool.manager.rpc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/** Reads libvirt RPC frames (a 4-byte length that counts itself, then the header and payload) from a channel. */
final class FrameReader {
    private final ReadableByteChannel channel;

    FrameReader(ReadableByteChannel channel) {
        this.channel = channel;
    }

    /** The next whole frame, decoded; null at end of stream. */
    Packet next() throws IOException {
        ByteBuffer len = ByteBuffer.allocate(4);
        if (!fill(len)) {
            return null;
        }
        int n = len.getInt(0);
        if (n < Packet.HEADER_BYTES || n > Packet.MAX_BYTES) {
            throw RpcException.malformed("frame length " + n);
        }
        ByteBuffer frame = ByteBuffer.allocate(n);
        frame.put(len.flip());
        if (!fill(frame)) {
            return null;
        }
        return Packet.decode(frame.array());
    }

    private boolean fill(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                return false;
            }
        }
        return true;
    }
}
