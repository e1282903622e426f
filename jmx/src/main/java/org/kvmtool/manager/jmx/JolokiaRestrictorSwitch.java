package org.kvmtool.manager.jmx;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * Enables the Jolokia restrictor component (declared disabled) only where this bundle is wired to Jolokia's
 * packages. Karaf's jolokia-osgi exports them; the lean runtime's Jolokia JVM agent does not, and there SCR
 * would try to load a class implementing {@code org.jolokia.restrictor.Restrictor} and log a
 * NoClassDefFoundError. Nothing here names a Jolokia type or the restrictor's class, so nothing loads them.
 * Should Jolokia arrive later, the framework refreshes this bundle (its optional imports can then be wired)
 * and this component decides again.
 */
@Component(immediate = true, service = {})
public final class JolokiaRestrictorSwitch {
    /** The restrictor component's name (its class name), spelt out: a class literal would load it. */
    static final String RESTRICTOR_COMPONENT = "org.kvmtool.manager.jmx.jolokia.RestrictorComponent";
    /** The Jolokia packages the restrictor component uses. */
    static final Set<String> JOLOKIA_PACKAGES = Set.of("org.jolokia.restrictor", "org.jolokia.util");
    private static final Logger LOG = Logger.getLogger(JolokiaRestrictorSwitch.class.getName());

    @Activate
    public JolokiaRestrictorSwitch(ComponentContext context) {
        List<String> wired = wiredPackages(context.getBundleContext().getBundle().adapt(BundleWiring.class));
        if (jolokiaWired(wired)) {
            context.enableComponent(RESTRICTOR_COMPONENT);
        } else {
            LOG.info("kvmtool JMX: Jolokia's packages are not wired to this bundle (no jolokia-osgi here): "
                    + "the Jolokia restrictor service is not registered");
        }
    }

    /** Pure: every package the restrictor needs is among the wired ones. */
    static boolean jolokiaWired(Collection<String> wiredPackages) {
        return wiredPackages.containsAll(JOLOKIA_PACKAGES);
    }

    private static List<String> wiredPackages(BundleWiring wiring) {
        if (wiring == null) {
            return List.of();
        }
        return wiring.getRequiredWires(PackageNamespace.PACKAGE_NAMESPACE).stream()
                .map(w -> String.valueOf(w.getCapability().getAttributes().get(PackageNamespace.PACKAGE_NAMESPACE)))
                .toList();
    }
}
