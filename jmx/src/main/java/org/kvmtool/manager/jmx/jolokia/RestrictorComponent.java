package org.kvmtool.manager.jmx.jolokia;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.jolokia.restrictor.DenyAllRestrictor;
import org.jolokia.restrictor.PolicyRestrictor;
import org.jolokia.restrictor.Restrictor;
import org.jolokia.util.HttpMethod;
import org.jolokia.util.RequestType;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The Restrictor service jolokia-osgi uses when {@code org.jolokia.useRestrictorService=true} (PID
 * org.jolokia.osgi). Jolokia then denies everything while no Restrictor service is registered, and ignores its
 * own policyLocation: so this service applies the policy file itself, then Karaf's JMX ACL.
 *
 * <p>Declared disabled: {@code JolokiaRestrictorSwitch} enables it where Jolokia's packages are wired to this
 * bundle (Karaf), and only there; elsewhere (the lean runtime) SCR never loads this class.
 */
@Component(service = Restrictor.class, immediate = true, enabled = false, configurationPid = RestrictorComponent.PID)
@Designate(ocd = RestrictorComponent.Config.class)
public final class RestrictorComponent implements Restrictor {
    static final String PID = "org.kvmtool.manager.jolokia";
    private static final Logger LOG = Logger.getLogger(RestrictorComponent.class.getName());

    @ObjectClassDefinition(name = "kvmtool Jolokia restrictor",
            description = "Applies the Jolokia access policy and Karaf's JMX ACL to /jolokia")
    public @interface Config {
        @AttributeDefinition(description = "The Jolokia access policy file; empty = ${karaf.etc}/jolokia-access.xml")
        String policy_file() default "";

        @AttributeDefinition(description = "ObjectName pattern of Karaf's JMX security MBean")
        String security_mbean() default "org.apache.karaf:type=security,area=jmx,*";
    }

    private final Restrictor delegate;

    @Activate
    public RestrictorComponent(@Reference(name = "mbeanServer") MBeanServer server,
                               @Reference(name = "configAdmin", cardinality = ReferenceCardinality.OPTIONAL,
                                       policyOption = ReferencePolicyOption.GREEDY) ConfigurationAdmin configAdmin,
                               Config config, BundleContext context) {
        Path policyFile = policyFile(config.policy_file(), context.getProperty("karaf.etc"));
        this.delegate = new AclRestrictor(loadPolicy(policyFile),
                new KarafJmxSecurity(server, config.security_mbean()),
                configAdmin == null ? AclLayout.askForEach() : new AclLayout(() -> aclPids(configAdmin)));
    }

    /**
     * The jmx.acl* configurations Karaf's guard considers (its BulkRequestContext lists the same), with their
     * change counts, and the keys of the whitelist.
     */
    static List<AclLayout.AclPid> aclPids(ConfigurationAdmin configAdmin) {
        try {
            Configuration[] configs = configAdmin.listConfigurations("(service.pid=jmx.acl*)");
            List<AclLayout.AclPid> pids = new ArrayList<>();
            for (Configuration c : configs == null ? new Configuration[0] : configs) {
                List<String> keys = List.of();
                if (AclLayout.WHITELIST_PID.equals(c.getPid())) {
                    Dictionary<String, Object> props = c.getProperties();
                    keys = props == null ? List.of() : Collections.list(props.keys());
                }
                pids.add(new AclLayout.AclPid(c.getPid(), c.getChangeCount(), keys));
            }
            return pids;
        } catch (IOException | InvalidSyntaxException e) {
            throw new IllegalStateException("cannot list the jmx.acl configurations", e);
        }
    }

    static Path policyFile(String configured, String karafEtc) {
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured.strip());
        }
        return karafEtc == null ? null : Path.of(karafEtc, "jolokia-access.xml");
    }

    /** The policy, or one that denies everything when the file is missing or broken: never open by accident. */
    static Restrictor loadPolicy(Path file) {
        if (file == null) {
            LOG.severe("kvmtool Jolokia restrictor: no policy file configured (policy.file) and no karaf.etc: "
                    + "denying every Jolokia request");
            return new DenyAllRestrictor();
        }
        try (InputStream in = Files.newInputStream(file)) {
            return new PolicyRestrictor(in);
        } catch (IOException | SecurityException e) {
            LOG.log(Level.SEVERE, "kvmtool Jolokia restrictor: cannot read the policy " + file
                    + ": denying every Jolokia request", e);
            return new DenyAllRestrictor();
        }
    }

    @Override
    public boolean isHttpMethodAllowed(HttpMethod method) {
        return delegate.isHttpMethodAllowed(method);
    }

    @Override
    public boolean isTypeAllowed(RequestType type) {
        return delegate.isTypeAllowed(type);
    }

    @Override
    public boolean isAttributeReadAllowed(ObjectName name, String attribute) {
        return delegate.isAttributeReadAllowed(name, attribute);
    }

    @Override
    public boolean isAttributeWriteAllowed(ObjectName name, String attribute) {
        return delegate.isAttributeWriteAllowed(name, attribute);
    }

    @Override
    public boolean isOperationAllowed(ObjectName name, String operation) {
        return delegate.isOperationAllowed(name, operation);
    }

    @Override
    public boolean isRemoteAccessAllowed(String... hostOrAddress) {
        return delegate.isRemoteAccessAllowed(hostOrAddress);
    }

    @Override
    public boolean isOriginAllowed(String origin, boolean onlyWhenStrictCheckingIsEnabled) {
        return delegate.isOriginAllowed(origin, onlyWhenStrictCheckingIsEnabled);
    }
}
