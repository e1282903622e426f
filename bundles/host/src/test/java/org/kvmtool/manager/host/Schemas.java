package org.kvmtool.manager.host;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Validation against libvirt's own RELAX NG schemas with xmllint (Debian: libvirt's schemas come with
 * libvirt-clients' dependencies, xmllint with libxml2-utils). Tests that need them skip, saying why, without.
 */
final class Schemas {
    static final Path DIR = Path.of("/usr/share/libvirt/schemas");
    static final Path XMLLINT = Path.of("/usr/bin/xmllint");

    private Schemas() {
    }

    static void assumeAvailable() {
        assumeTrue(Files.isExecutable(XMLLINT), XMLLINT + " is absent (Debian: apt-get install libxml2-utils)");
        assumeTrue(Files.isRegularFile(DIR.resolve("capability.rng")),
                DIR + " has no libvirt schemas (Debian: apt-get install libvirt-clients)");
    }

    record Result(int exitCode, String output) {
        boolean valid() {
            return exitCode == 0;
        }
    }

    /** xmllint --relaxng SCHEMA on the document. */
    static Result validate(Path schema, String xml, Path work) throws IOException, InterruptedException {
        Path doc = Files.createTempFile(work, "doc", ".xml");
        Files.writeString(doc, xml);
        Process p = new ProcessBuilder(XMLLINT.toString(), "--noout", "--relaxng", schema.toString(), doc.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("xmllint did not finish");
        }
        return new Result(p.exitValue(), out);
    }

    /**
     * capability.rng with one change: its {@code <domain type>} lists libvirt's own drivers only, so this grammar
     * includes it and adds kvmtool to the list, changing nothing else.
     */
    static Path capabilitiesWithKvmtool(Path work) throws IOException {
        return grammar(work, "caps-kvmtool.rng", """
                <grammar xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
                  <include href="%s">
                    <define name="domain">
                      <element name="domain">
                        <attribute name="type"><value>kvmtool</value></attribute>
                        <optional><ref name="emulator"/></optional>
                        <zeroOrMore><ref name="machine"/></zeroOrMore>
                      </element>
                    </define>
                  </include>
                </grammar>
                """.formatted(DIR.resolve("capability.rng")));
    }

    /** The sysinfo element of the domain schema as a document of its own. */
    static Path sysinfo(Path work) throws IOException {
        return grammar(work, "sysinfo.rng", """
                <grammar xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
                  <start><ref name="sysinfo"/></start>
                  <include href="%s"/>
                </grammar>
                """.formatted(DIR.resolve("domaincommon.rng")));
    }

    private static Path grammar(Path work, String name, String text) throws IOException {
        Path p = work.resolve(name);
        Files.writeString(p, text);
        return p;
    }
}
