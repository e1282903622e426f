package org.kvmtool.manager.launch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * kvmtool's IPC wire format (include/kvm/kvm-ipc.h): a little-endian {@code u32 type, u32 len} header
 * and {@code len} payload bytes. Pure: byte layouts only.
 */
final class IpcWire {
    static final int BALLOON = 1;
    static final int DEBUG = 2;
    static final int STAT = 3;
    static final int PAUSE = 4;
    static final int RESUME = 5;
    static final int STOP = 6;
    static final int PID = 7;
    static final int VMSTATE = 8;

    /** debug_cmd_params.dbg_type bits. */
    static final int DEBUG_DUMP = 1;
    static final int DEBUG_NMI = 2;
    static final int DEBUG_SYSRQ = 4;

    /** struct virtio_balloon_stat {u16 tag; u64 val;} packed. */
    static final int STAT_RECORD_BYTES = 10;

    /** virtio balloon stat tags by number, named as libvirt's dommemstat names them. */
    private static final String[] STAT_NAMES = {
        "swap_in", "swap_out", "major_fault", "minor_fault", "unused", "available", "usable",
        "disk_caches", "hugetlb_pgalloc", "hugetlb_pgfail",
    };

    private IpcWire() {
    }

    static ByteBuffer request(int type) {
        return request(type, new byte[0]);
    }

    static ByteBuffer request(int type, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(8 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(payload.length).put(payload);
        return b.flip();
    }

    static ByteBuffer balloon(int deltaMiB) {
        return request(BALLOON, le(4).putInt(deltaMiB).array());
    }

    /** struct debug_cmd_params {u32 dbg_type; u32 cpu; char sysrq;}: 12 bytes with its tail padding. */
    static ByteBuffer debug(int type, int cpu, char sysrq) {
        return request(DEBUG, le(12).putInt(type).putInt(cpu).put((byte) sysrq).array());
    }

    static int int32(byte[] reply) {
        return ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    /** Balloon statistics by name; whole 10-byte records only, unknown tags as "tag-N". */
    static Map<String, Long> stats(byte[] reply) {
        ByteBuffer b = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, Long> out = new LinkedHashMap<>();
        while (b.remaining() >= STAT_RECORD_BYTES) {
            int tag = Short.toUnsignedInt(b.getShort());
            long value = b.getLong();
            out.put(tag < STAT_NAMES.length ? STAT_NAMES[tag] : "tag-" + tag, value);
        }
        return out;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
