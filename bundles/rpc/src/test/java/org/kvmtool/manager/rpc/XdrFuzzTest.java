package org.kvmtool.manager.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The XDR decoder under Jazzer. {@link #packet}: any bytes either decode to a packet that encodes back to
 * the same bytes, or are refused with an RpcException. {@link #reads}: any sequence of reads over any payload
 * gives values within libvirt's bounds or an RpcException, nothing else; what XdrOut wrote reads back the same.
 *
 * <p>The normal build replays the seeds in {@code XdrFuzzTestInputs/} (the frames virsh 9.0.0 sent). To fuzz:
 * {@code JAZZER_FUZZ=1 mvn -pl bundles/rpc test -Dtest=XdrFuzzTest#packet} (or #reads).
 */
class XdrFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void packet(byte[] frame) {
        Packet p;
        try {
            p = Packet.decode(frame);
        } catch (RpcException refused) {
            return;
        }
        assertArrayEquals(frame, p.encode());
    }

    @FuzzTest(maxDuration = "5m")
    void reads(FuzzedDataProvider data) {
        XdrIn in = new XdrIn(data.consumeBytes(data.consumeInt(0, 512)), 0);
        XdrOut out = new XdrOut();
        StringBuilder expected = new StringBuilder();
        try {
            while (data.remainingBytes() > 0) {
                switch (data.consumeInt(0, 7)) {
                    case 0 -> in.readInt();
                    case 1 -> in.readHyper();
                    case 2 -> in.readBool();
                    case 3 -> assertTrue(in.readString().getBytes(StandardCharsets.UTF_8).length <= ProtocolLimits.STRING_MAX);
                    case 4 -> in.readOptionalString();
                    case 5 -> assertEquals(16, in.readFixedOpaque(16).length);
                    case 6 -> {
                        int max = data.consumeInt(0, ProtocolLimits.DOMAIN_LIST_MAX);
                        int n = in.readCount(max, "count");
                        assertTrue(n >= 0 && n <= max);
                    }
                    default -> {
                        String s = data.consumeString(64);
                        long h = data.consumeLong();
                        out.writeString(s).writeHyper(h).writeOptionalString(data.consumeBoolean() ? null : s);
                        expected.append(s).append('\0').append(h).append('\0');
                    }
                }
            }
        } catch (RpcException refused) {
            // the payload ran short or broke a bound: a typed refusal
        }
        XdrIn back = new XdrIn(out.toByteArray(), 0);
        StringBuilder got = new StringBuilder();
        while (got.length() < expected.length()) {
            String s = back.readString();
            got.append(s).append('\0').append(back.readHyper()).append('\0');
            String o = back.readOptionalString();
            assertTrue(o == null || o.equals(s));
        }
        assertEquals(expected.toString(), got.toString());
    }
}
