package org.kvmtool.manager.deploy;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.apache.felix.fileinstall.ArtifactInstaller;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainXmlCodec;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Hot deployment of domain definitions: a file in Karaf's deploy/ whose root element is {@code <domain>}
 * is defined; changed, it is redefined; removed, it is undefined (a running guest keeps running, as a
 * transient domain). A bad file is logged with the codec's error and changes nothing.
 */
@Component(service = ArtifactInstaller.class)
public class DomainDeployer implements ArtifactInstaller {
    private static final Logger LOG = Logger.getLogger(DomainDeployer.class.getName());
    private static final long MAX_BYTES = 1 << 20;

    private final DomainDriver driver;
    private final DomainXmlCodec codec;
    private final DeployedFiles deployed;

    @Activate
    public DomainDeployer(@Reference(name = "driver") DomainDriver driver,
                          @Reference(name = "codec") DomainXmlCodec codec, BundleContext context) throws IOException {
        this(driver, codec, context.getDataFile("deployed-domains.properties").toPath());
    }

    DomainDeployer(DomainDriver driver, DomainXmlCodec codec, Path stateFile) throws IOException {
        this.driver = driver;
        this.codec = codec;
        this.deployed = new DeployedFiles(stateFile);
    }

    @Override
    public boolean canHandle(File artifact) {
        return artifact.getName().endsWith(".xml") && RootElement.of(artifact.toPath()).filter("domain"::equals).isPresent();
    }

    @Override
    public void install(File artifact) throws Exception {
        define(artifact.toPath());
    }

    @Override
    public void update(File artifact) throws Exception {
        define(artifact.toPath());
    }

    @Override
    public void uninstall(File artifact) throws Exception {
        Path file = artifact.toPath();
        Optional<String> name = deployed.nameOf(file);
        if (name.isEmpty()) {
            return;
        }
        undefineQuietly(name.get(), file);
        deployed.remove(file);
    }

    private void define(Path file) throws IOException {
        String name;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new KvmtoolException(ErrorCode.XML_ERROR, "larger than 1 MiB");
            }
            name = driver.define(keepingUuid(file, Files.readString(file, StandardCharsets.UTF_8)));
        } catch (KvmtoolException e) {
            // Fileinstall logs what we throw too, but without saying it is a domain: say it once, clearly.
            LOG.warning("deploy: " + file + " not defined: " + e.getMessage());
            throw e;
        }
        Optional<String> before = deployed.nameOf(file);
        if (before.isPresent() && !before.get().equals(name)) {
            // The file now defines another domain: the one it defined before goes, as if its file were removed.
            undefineQuietly(before.get(), file);
        }
        deployed.put(file, name);
        LOG.info("deploy: " + file + " defined domain '" + name + "'");
    }

    /**
     * A file without {@code <uuid>} gets a new uuid at every parse, and a redefinition with another uuid is
     * refused, as libvirt refuses it ("domain 'x' already exists with uuid ..."). An edited file means the
     * domain it defined before: that domain keeps its uuid.
     */
    private String keepingUuid(Path file, String xml) {
        Optional<String> before = deployed.nameOf(file);
        if (before.isEmpty() || RootElement.hasChild(xml, "uuid")
                || !before.equals(RootElement.childText(xml, "name"))) {
            return xml; // new, with its own uuid, or renamed: a domain of its own
        }
        return driver.lookup(before.get()).map(existing -> {
            DomainDefinition definition = codec.parse(xml);
            return codec.format(definition.withIdentity(existing.name(), existing.uuid()));
        }).orElse(xml);
    }

    private void undefineQuietly(String name, Path file) {
        try {
            driver.undefine(name);
            LOG.info("deploy: " + file + " removed, domain '" + name + "' undefined");
        } catch (KvmtoolException e) {
            if (e.code() != ErrorCode.NO_DOMAIN && e.code() != ErrorCode.OPERATION_INVALID) {
                LOG.log(Level.WARNING, "deploy: undefine of '" + name + "' failed: " + e.getMessage(), e);
            }
        }
    }
}
