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
import org.kvmtool.manager.api.DomainDriver;
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
    private final DeployedFiles deployed;

    @Activate
    public DomainDeployer(@Reference DomainDriver driver, BundleContext context) throws IOException {
        this(driver, context.getDataFile("deployed-domains.properties").toPath());
    }

    DomainDeployer(DomainDriver driver, Path stateFile) throws IOException {
        this.driver = driver;
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
            name = driver.define(Files.readString(file, StandardCharsets.UTF_8));
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
