package org.kvmtool.manager.xml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainXmlCodec;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.util.tracker.ServiceTracker;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Stream;

/**
 * The packaged bundle in a real OSGi framework (embedded Felix with Felix SCR), with JAXB as Karaf has
 * it: jakarta.xml.bind-api and jaxb-osgi as bundles, nothing on the class path. Proves the DS
 * component activates (constructor injection, no references), that JAXB finds its runtime through the
 * bundle (stack.md pitfall 6) and that the codec parses and formats there. The api package comes from
 * the test's class path through the system bundle, so the test can use the service's types directly.
 */
class OsgiCodecIT {
    private static Framework framework;

    @BeforeAll
    static void start() throws Exception {
        Path storage = Path.of(System.getProperty("it.storage", "target/it-felix"));
        if (Files.exists(storage)) {
            try (Stream<Path> walk = Files.walk(storage)) {
                walk.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "org.kvmtool.manager.api;version=0.1.0");
        framework = ServiceLoader.load(org.osgi.framework.launch.FrameworkFactory.class).iterator().next().newFramework(config);
        framework.start();
        BundleContext ctx = framework.getBundleContext();
        List<Bundle> bundles = new ArrayList<>();
        try (Stream<Path> jars = Files.list(Path.of(System.getProperty("it.bundles")))) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                bundles.add(ctx.installBundle(jar.toUri().toString()));
            }
        }
        bundles.add(ctx.installBundle(Path.of(System.getProperty("it.bundle")).toUri().toString()));
        for (Bundle b : bundles) {
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                b.start();
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (framework != null) {
            framework.stop();
            framework.waitForStop(10_000);
        }
    }

    private static DomainXmlCodec codec() throws InterruptedException {
        ServiceTracker<DomainXmlCodec, DomainXmlCodec> t = new ServiceTracker<>(framework.getBundleContext(), DomainXmlCodec.class, null);
        t.open();
        try {
            DomainXmlCodec c = t.waitForService(20_000);
            assertNotNull(c, "no DomainXmlCodec service: " + states());
            return c;
        } finally {
            t.close();
        }
    }

    private static String states() {
        StringBuilder b = new StringBuilder();
        for (Bundle x : framework.getBundleContext().getBundles()) {
            b.append(x.getSymbolicName()).append('=').append(x.getState()).append(' ');
        }
        return b.toString();
    }

    @Test
    void theServiceParsesAndFormatsInsideTheFramework() throws Exception {
        DomainXmlCodec codec = codec();
        assertTrue(codec.getClass().getClassLoader() != OsgiCodecIT.class.getClassLoader(), "the codec must come from the bundle");
        String xml = "<domain type='kvmtool'><name>osgi</name><memory unit='MiB'>128</memory>"
                + "<os><type arch='x86_64'>hvm</type><kernel>/boot/bzImage</kernel></os>"
                + "<devices><disk type='file' device='disk'><source file='/srv/a.img'/><target dev='vda' bus='virtio'/></disk>"
                + "<filesystem type='mount' accessmode='passthrough'><source dir='/srv'/><target dir='srv'/></filesystem>"
                + "<console type='pty'><target type='virtio'/></console><memballoon model='virtio'/></devices></domain>";
        DomainDefinition d = codec.parse(xml);
        assertEquals("osgi", d.name());
        assertEquals(128L << 20, d.maxMemoryBytes());
        assertEquals(d, codec.parse(codec.format(d)));
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> codec.parse(xml.replace("bus='virtio'", "bus='ide'")));
        assertEquals(ErrorCode.CONFIG_UNSUPPORTED, e.code());
    }
}
