package org.kvmtool.manager.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

class DomainDeployerTest {
    @TempDir
    Path dir;

    /** Records define/undefine; define refuses XML without a name, as the codec would. */
    final TreeSet<String> defined = new TreeSet<>();
    final List<String> calls = new ArrayList<>();
    final DomainDriver driver = (DomainDriver) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {DomainDriver.class}, (proxy, method, args) -> {
                switch (method.getName()) {
                    case "define" -> {
                        Matcher m = Pattern.compile("<name>([^<]+)</name>").matcher((String) args[0]);
                        if (!m.find()) {
                            throw new KvmtoolException(ErrorCode.XML_ERROR, "missing /domain/name (line 1:1)");
                        }
                        defined.add(m.group(1));
                        calls.add("define " + m.group(1));
                        return m.group(1);
                    }
                    case "undefine" -> {
                        if (!defined.remove((String) args[0])) {
                            throw new KvmtoolException(ErrorCode.NO_DOMAIN, "domain '" + args[0] + "' not found");
                        }
                        calls.add("undefine " + args[0]);
                        return null;
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                }
            });

    private Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    private DomainDeployer deployer() throws Exception {
        return new DomainDeployer(driver, dir.resolve("state/deployed.properties"));
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
