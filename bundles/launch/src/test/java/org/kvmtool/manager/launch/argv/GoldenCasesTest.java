package org.kvmtool.manager.launch.argv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDefinition.ConsoleType;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.launch.argv.HostCapabilities.Feature;
import org.kvmtool.manager.xml.XmlDomainCodec;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * libvirt's xml2argv and xml2xml in one: for each {@code cases/NAME.xml}, parse, validate and build,
 * then compare with {@code NAME.out.xml} (canonical XML) and {@code NAME.args} (one argument a line),
 * or with {@code NAME.err} (first line: phase and code, then the message) for a case that must fail.
 * An optional {@code NAME.host} (properties: arch, consoles, maxVcpus, features, binary, home, hugetlbfs) changes
 * the host the case is built for. Every canonical output must parse back to the same definition.
 *
 * <p>{@code mvn test -Dkvmtool.regenerate=true} rewrites the expected files from what the code does
 * now; review the diff before committing it.
 */
class GoldenCasesTest {
    static final Path CASES = Path.of(System.getProperty("basedir", "."), "src", "test", "resources", "argv", "cases");
    private static final boolean REGENERATE = Boolean.getBoolean("kvmtool.regenerate");

    enum Phase { parse, validate, build }

    /** What a case produced: the canonical XML (when it got that far), the argv, or the failure. */
    record Outcome(String outXml, List<String> args, Phase phase, KvmtoolException error) {
    }

    static List<String> caseNames() throws IOException {
        try (Stream<Path> files = Files.list(CASES)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".xml") && !n.endsWith(".out.xml"))
                    .map(n -> n.substring(0, n.length() - ".xml".length()))
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    @TestFactory
    Stream<DynamicTest> cases() throws IOException {
        return caseNames().stream().map(name -> DynamicTest.dynamicTest(name, () -> check(name)));
    }

    @Test
    void theCasesCoverEveryPhase() throws IOException {
        List<String> names = caseNames();
        assertTrue(names.size() >= 40, "at least 40 cases, found " + names.size());
        Map<String, Long> failures = names.stream().filter(n -> Files.exists(file(n, ".err")))
                .collect(Collectors.groupingBy(n -> firstWord(n), Collectors.counting()));
        for (Phase phase : Phase.values()) {
            assertTrue(failures.getOrDefault(phase.name(), 0L) >= 3, "failure cases for phase " + phase + ": " + failures);
        }
        assertTrue(names.stream().filter(n -> Files.exists(file(n, ".args"))).count() >= 40, "at least 40 cases that build");
    }

    private static String firstWord(String name) {
        try {
            return Files.readString(file(name, ".err")).split("\\s+", 2)[0];
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Outcome run(String name) throws IOException {
        String xml = Files.readString(file(name, ".xml"), StandardCharsets.UTF_8);
        Properties host = new Properties();
        if (Files.exists(file(name, ".host"))) {
            host.load(new StringReader(Files.readString(file(name, ".host"))));
        }
        XmlDomainCodec codec = codecFor(name);
        XmlDomainCodec.Parsed parsed;
        try {
            parsed = codec.read(xml);
        } catch (KvmtoolException e) {
            return new Outcome(null, null, Phase.parse, e);
        }
        DomainDefinition def;
        try {
            def = codec.validate(parsed);
        } catch (KvmtoolException e) {
            return new Outcome(null, null, Phase.validate, e);
        }
        String out = codec.format(def);
        DomainDefinition again = codec.parse(out);
        assertEquals(def, again, name + ": parse(format(x)) must equal x");
        assertEquals(out, codec.format(again), name + ": format must be stable");
        try {
            return new Outcome(out, ArgvBuilder.build(def, caps(host), paths(host)), null, null);
        } catch (KvmtoolException e) {
            return new Outcome(out, null, Phase.build, e);
        }
    }

    private static final AtomicReference<String> CURRENT_CASE = new AtomicReference<>("");
    /** One codec (one JAXBContext) for all cases, with uuids derived from the case name: stable outputs. */
    private static final XmlDomainCodec CODEC = new XmlDomainCodec(
            () -> UUID.nameUUIDFromBytes(CURRENT_CASE.get().getBytes(StandardCharsets.UTF_8)));

    static XmlDomainCodec codecFor(String name) {
        CURRENT_CASE.set(name);
        return CODEC;
    }

    static HostCapabilities caps(Properties p) {
        Set<ConsoleType> consoles = EnumSet.noneOf(ConsoleType.class);
        for (String c : p.getProperty("consoles", "SERIAL,VIRTIO").split(",")) {
            consoles.add(ConsoleType.valueOf(c.trim()));
        }
        Set<Feature> features = EnumSet.noneOf(Feature.class);
        String f = p.getProperty("features", Arrays.stream(Feature.values()).map(Enum::name).collect(Collectors.joining(",")));
        for (String x : f.split(",")) {
            if (!x.isBlank()) {
                features.add(Feature.valueOf(x.trim()));
            }
        }
        return new HostCapabilities(p.getProperty("arch", "x86_64"), consoles,
                Integer.parseInt(p.getProperty("maxVcpus", "255")), features);
    }

    static LaunchPaths paths(Properties p) {
        return new LaunchPaths(p.getProperty("binary", "/usr/bin/lkvm"), p.getProperty("home", "/var/lib/kvmtool"),
                p.getProperty("hugetlbfs"));
    }

    private static void check(String name) throws IOException {
        Outcome o = run(name);
        if (REGENERATE) {
            regenerate(name, o);
            return;
        }
        Path err = file(name, ".err");
        if (o.error() != null) {
            if (!Files.exists(err)) {
                fail(name + " failed in phase " + o.phase() + ": " + o.error());
            }
            assertEquals(Files.readString(err), errText(o), name + ".err");
        } else {
            assertFalse(Files.exists(err), name + " was expected to fail: " + (Files.exists(err) ? Files.readString(err) : ""));
            assertEquals(Files.readString(file(name, ".args")), String.join("\n", o.args()) + "\n", name + ".args");
        }
        if (o.outXml() != null) {
            assertEquals(Files.readString(file(name, ".out.xml")), o.outXml(), name + ".out.xml");
        } else {
            assertFalse(Files.exists(file(name, ".out.xml")), name + ".out.xml exists but the case fails before formatting");
        }
    }

    private static String errText(Outcome o) {
        return o.phase() + " " + o.error().code() + "\n" + o.error().getMessage() + "\n";
    }

    private static void regenerate(String name, Outcome o) throws IOException {
        write(file(name, ".out.xml"), o.outXml());
        write(file(name, ".args"), o.args() == null ? null : String.join("\n", o.args()) + "\n");
        write(file(name, ".err"), o.error() == null ? null : errText(o));
    }

    private static void write(Path file, String content) throws IOException {
        if (content == null) {
            Files.deleteIfExists(file);
        } else {
            Files.writeString(file, content, StandardCharsets.UTF_8);
        }
    }

    static Path file(String name, String suffix) {
        return CASES.resolve(name + suffix);
    }
}
