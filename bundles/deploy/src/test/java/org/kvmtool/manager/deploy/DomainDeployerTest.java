package org.kvmtool.manager.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.StateReason;
import org.kvmtool.manager.xml.XmlDomainCodec;

class DomainDeployerTest {
    @TempDir
    Path dir;

    /**
     * Records define/undefine; define refuses XML without a name, as the codec would, and a known name with
     * another uuid (or none, which means a new random one), as the driver and libvirt do.
     */
    final TreeSet<String> defined = new TreeSet<>();
    final Map<String, UUID> uuids = new HashMap<>();
    final List<String> calls = new ArrayList<>();
    final DomainDriver driver = (DomainDriver) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {DomainDriver.class}, (proxy, method, args) -> {
                switch (method.getName()) {
                    case "define" -> {
                        String xml = (String) args[0];
                        Matcher m = Pattern.compile("<name>([^<]+)</name>").matcher(xml);
                        if (!m.find()) {
                            throw new KvmtoolException(ErrorCode.XML_ERROR, "missing /domain/name (line 1:1)");
                        }
                        String name = m.group(1);
                        Matcher u = Pattern.compile("<uuid>([^<]+)</uuid>").matcher(xml);
                        UUID uuid = u.find() ? UUID.fromString(u.group(1)) : UUID.randomUUID();
                        if (defined.contains(name) && !uuids.get(name).equals(uuid)) {
                            throw new KvmtoolException(ErrorCode.OPERATION_INVALID,
                                    "domain '" + name + "' already exists with uuid " + uuids.get(name));
                        }
                        defined.add(name);
                        uuids.put(name, uuid);
                        calls.add("define " + name);
                        return name;
                    }
                    case "undefine" -> {
                        if (!defined.remove((String) args[0])) {
                            throw new KvmtoolException(ErrorCode.NO_DOMAIN, "domain '" + args[0] + "' not found");
                        }
                        calls.add("undefine " + args[0]);
                        return null;
                    }
                    case "lookup" -> {
                        String name = (String) args[0];
                        return defined.contains(name) ? Optional.of(new DomainInfo(name, uuids.get(name), -1,
                                DomainState.SHUTOFF, StateReason.SHUTOFF_UNKNOWN, true, false, -1, 1, 1 << 26,
                                1 << 26, null, 0, List.of())) : Optional.empty();
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                }
            });
    final XmlDomainCodec codec = new XmlDomainCodec();

    private Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    private DomainDeployer deployer() throws Exception {
        return new DomainDeployer(driver, codec, dir.resolve("state/deployed.properties"));
    }

    @Test
    void handlesOnlyDomainRootElements() throws Exception {
        DomainDeployer d = deployer();
        assertTrue(d.canHandle(write("vm.xml", "<?xml version='1.0'?>\n<domain type='kvmtool'><name>a</name></domain>").toFile()));
        assertFalse(d.canHandle(write("f.xml", "<features name='x'/>").toFile()));
        assertFalse(d.canHandle(write("broken.xml", "<<<").toFile()));
        assertFalse(d.canHandle(write("vm.txt", "<domain/>").toFile()));
    }

    @Test
    void installUpdateUninstall() throws Exception {
        Path f = write("vm.xml", "<domain type='kvmtool'><name>one</name></domain>");
        DomainDeployer d = deployer();
        d.install(f.toFile());
        assertEquals(List.of("define one"), calls);

        Files.writeString(f, "<domain type='kvmtool'><name>two</name></domain>");
        d.update(f.toFile());
        assertEquals(List.of("define one", "define two", "undefine one"), calls);
        assertEquals(List.of("two"), List.copyOf(defined));

        Files.delete(f);
        deployer().uninstall(f.toFile()); // a new instance: the name comes from the state file
        assertTrue(defined.isEmpty());
    }

    static String guest(String name, int mib) {
        return "<domain type='kvmtool'><name>" + name + "</name><memory unit='MiB'>" + mib + "</memory>"
                + "<os><type>hvm</type><kernel>/boot/guest.bin</kernel></os></domain>";
    }

    @Test
    void anEditedFileWithoutUuidRedefinesItsDomain() throws Exception {
        Path f = write("vm.xml", guest("nouuid", 64));
        DomainDeployer d = deployer();
        d.install(f.toFile());
        UUID first = uuids.get("nouuid");
        Files.writeString(f, guest("nouuid", 128));
        d.update(f.toFile());
        assertEquals(List.of("define nouuid", "define nouuid"), calls);
        assertEquals(first, uuids.get("nouuid"), "the domain keeps its uuid");

        // another file naming the same domain, without its uuid, is refused as libvirt refuses it
        Path other = write("other.xml", guest("nouuid", 32));
        KvmtoolException clash = assertThrows(KvmtoolException.class, () -> d.install(other.toFile()));
        assertTrue(clash.getMessage().contains("already exists with uuid " + first), clash.getMessage());
        assertEquals(first, uuids.get("nouuid"));
    }

    @Test
    void aBadFileChangesNothing() throws Exception {
        Path f = write("vm.xml", "<domain type='kvmtool'><name>keep</name></domain>");
        DomainDeployer d = deployer();
        d.install(f.toFile());
        Files.writeString(f, "<domain type='kvmtool'></domain>");
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> d.update(f.toFile()));
        assertEquals(ErrorCode.XML_ERROR, e.code());
        assertEquals(List.of("keep"), List.copyOf(defined));
        Files.delete(f);
        d.uninstall(f.toFile());
        assertTrue(defined.isEmpty(), "the last good definition is what the removal undefines");
    }

    @Test
    void removalOfADomainAlreadyGoneIsQuiet() throws Exception {
        Path f = write("vm.xml", "<domain type='kvmtool'><name>gone</name></domain>");
        DomainDeployer d = deployer();
        d.install(f.toFile());
        defined.clear();
        d.uninstall(f.toFile());
        assertEquals(List.of("define gone"), calls);
    }
}
