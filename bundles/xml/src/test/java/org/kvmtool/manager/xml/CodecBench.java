package org.kvmtool.manager.xml;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainDefinition;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamReader;

/**
 * A harness, not a test: prints what parse and format cost against a bare StAX pass over the same
 * document (the floor any XML reader pays). Run: {@code mvn -pl bundles/xml -am test -Dgroups=bench
 * -Dbench.excluded= -Dtest=CodecBench -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("bench")
class CodecBench {
    private static final int ROUNDS = 20_000;

    @Test
    void parseAndFormatAgainstABareStaxPass() throws Exception {
        String xml = new String(Files.readAllBytes(Path.of("src/test/resources/org/kvmtool/manager/xml/CodecFuzzTestInputs/parse/everything.xml")),
                StandardCharsets.UTF_8);
        XmlDomainCodec codec = new XmlDomainCodec();
        XMLInputFactory f = XMLInputFactory.newDefaultFactory();
        DomainDefinition d = codec.parse(xml);
        long sink = 0;
        for (int warm = 0; warm < 2; warm++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < ROUNDS; i++) {
                XMLStreamReader r = f.createXMLStreamReader(new StringReader(xml));
                while (r.hasNext()) {
                    sink += r.next();
                }
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < ROUNDS; i++) {
                sink += codec.parse(xml).vcpus();
            }
            long t2 = System.nanoTime();
            for (int i = 0; i < ROUNDS; i++) {
                sink += codec.format(d).length();
            }
            long t3 = System.nanoTime();
            if (warm == 1) {
                double stax = (t1 - t0) / 1e3 / ROUNDS;
                double parse = (t2 - t1) / 1e3 / ROUNDS;
                double format = (t3 - t2) / 1e3 / ROUNDS;
                System.out.printf("bare StAX pass %.1f us; codec.parse %.1f us (%.1fx); codec.format %.1f us (%.1fx); %d bytes [%d]%n",
                        stax, parse, parse / stax, format, format / stax, xml.length(), sink % 10);
            }
        }
    }
}
