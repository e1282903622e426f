package org.kvmtool.manager.rpc;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Reads libvirt RPC frames (a 4-byte length that counts itself, then the header and payload) from a
 * non-blocking channel, a piece at a time. The length is checked before anything is allocated for the
 * frame, and the frame's buffer grows with the bytes that actually arrive (doubling from
 * {@link #FIRST_BUFFER}): a client that announces 32 MiB and sends ten bytes holds 4 KiB, not 32 MiB
 * (libvirtd allocates the announced length at once). The first 4 KiB of a frame, all that nearly every call
 * needs, are the connection's own (bounded by the number of connections); what a frame grows beyond them is
 * paid from the shared {@link MemoryBudget}, so clients that fill the budget with large frames still leave
 * room for everybody's small calls. Read by the I/O thread; released by whoever closes the connection.
 */
final class FrameReader {
    /** Enough for every call virsh makes but a definition: most frames need no growth. */
    static final int FIRST_BUFFER = 4096;

    private final ByteBuffer length = ByteBuffer.allocate(ProtocolLimits.LENGTH_WORD);
    private ByteBuffer frame;
    private int expected;

    /**
     * Reads what the channel has now, up to the end of one frame. Returns the whole frame (length word
     * included; the caller then holds {@link #charge} of its length from the budget) or null when more is
     * needed.
     *
     * @throws EOFException at the end of the stream
     * @throws RpcException for a length below the header or above {@code maxFrame}, or no budget left
     */
    synchronized byte[] read(ReadableByteChannel channel, int maxFrame, MemoryBudget budget) throws IOException {
        if (frame == null) {
            if (!fill(channel, length)) {
                return null;
            }
            startFrame(maxFrame);
        }
        while (true) {
            if (!frame.hasRemaining()) {
                if (frame.capacity() == expected) {
                    byte[] whole = frame.array();
                    frame = null;
                    length.clear();
                    return whole;
                }
                grow(budget);
            }
            int n = channel.read(frame);
            if (n < 0) {
                throw new EOFException("end of stream in a frame of " + expected + " bytes");
            }
            if (n == 0) {
                return null;
            }
        }
    }

    /** What a buffer (or a whole frame) of {@code bytes} takes from the shared budget. */
    static long charge(long bytes) {
        return Math.max(0, bytes - FIRST_BUFFER);
    }

    /** The budget this reader holds for a frame not yet whole. */
    synchronized long held() {
        return frame == null ? 0 : charge(frame.capacity());
    }

    /** The bytes allocated for a frame not yet whole. */
    synchronized int bufferBytes() {
        return frame == null ? 0 : frame.capacity();
    }

    /** Gives the partial frame's bytes back to the budget (the connection ends). */
    synchronized void release(MemoryBudget budget) {
        if (frame != null) {
            budget.release(charge(frame.capacity()));
            frame = null;
        }
    }

    /** True when the length word is whole; throws EOFException at end of stream before it. */
    private static boolean fill(ReadableByteChannel channel, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            int n = channel.read(b);
            if (n < 0) {
                if (b.position() == 0) {
                    throw new EOFException("end of stream");
                }
                throw new EOFException("end of stream in a length word");
            }
            if (n == 0) {
                return false;
            }
        }
        return true;
    }

    private void startFrame(int maxFrame) {
        long n = length.getInt(0) & 0xffffffffL;
        if (n < Packet.HEADER_BYTES) {
            throw RpcException.malformed("frame length " + n + " is below the header's " + Packet.HEADER_BYTES);
        }
        if (n > maxFrame) {
            throw RpcException.malformed("frame length " + n + " is above the limit of " + maxFrame);
        }
        expected = (int) n;
        frame = ByteBuffer.allocate(Math.min(expected, FIRST_BUFFER));
        frame.put(length.flip());
    }

    private void grow(MemoryBudget budget) {
        int next = (int) Math.min(expected, 2L * frame.capacity());
        take(budget, charge(next) - charge(frame.capacity()));
        ByteBuffer bigger = ByteBuffer.allocate(next);
        bigger.put(frame.flip());
        frame = bigger;
    }

    private static void take(MemoryBudget budget, long bytes) {
        if (!budget.tryAcquire(bytes)) {
            throw new RpcException(RpcException.VIR_ERR_RPC, "the server's buffers are full ("
                    + budget.max() + " bytes, max_buffer_bytes): connection dropped");
        }
    }
}
