package org.kvmtool.manager.xml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.KvmtoolException;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The codec under Jazzer: whatever the bytes, parse either returns a definition or throws a
 * KvmtoolException with a one-line message (never another exception, never a hang); what parses
 * formats to XML that parses back to the same definition and formats the same again.
 *
 * <p>In the normal build this replays the seeds in {@code CodecFuzzTestInputs/parse/} (plain JUnit).
 * To fuzz: {@code JAZZER_FUZZ=1 mvn -pl bundles/xml test -Dtest=CodecFuzzTest} (maxDuration below).
 */
class CodecFuzzTest {
    private static final UUID FIXED = UUID.fromString("00000000-0000-4000-8000-000000000000");
    private static final XmlDomainCodec CODEC = new XmlDomainCodec(() -> FIXED);

    @FuzzTest(maxDuration = "5m")
    void parse(byte[] input) {
        String xml = new String(input, StandardCharsets.UTF_8);
        DomainDefinition d;
        try {
            d = CODEC.parse(xml);
        } catch (KvmtoolException e) {
            assertNotNull(e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            return;
        }
        String out = CODEC.format(d);
        DomainDefinition again = CODEC.parse(out);
        assertEquals(d, again, out);
        assertEquals(out, CODEC.format(again));
    }
}
