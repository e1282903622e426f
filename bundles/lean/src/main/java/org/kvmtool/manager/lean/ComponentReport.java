package org.kvmtool.manager.lean;

import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The Declarative Services components that are not running, and why: what Karaf's {@code scr:list} and
 * {@code scr:info} would tell, for a runtime without a shell. Read through ServiceComponentRuntime
 * reflectively: its API lives in a bundle's class loader, not on the launcher's class path.
 */
final class ComponentReport {
    private static final String SCR = "org.osgi.service.component.runtime.ServiceComponentRuntime";
    private static final String DESCRIPTION = "org.osgi.service.component.runtime.dto.ComponentDescriptionDTO";
    // ComponentConfigurationDTO states
    private static final int UNSATISFIED_CONFIGURATION = 1;
    private static final int UNSATISFIED_REFERENCE = 2;
    private static final int FAILED_ACTIVATION = 16;

    private ComponentReport() {
    }

    /** One line per component that is enabled but not satisfied, or failed to activate. */
    static List<String> problems(BundleContext context) throws ReflectiveOperationException {
        List<String> lines = new ArrayList<>();
        ServiceReference<?> ref = context.getServiceReference(SCR);
        if (ref == null) {
            lines.add("Declarative Services is not running");
            return lines;
        }
        Object scr = context.getService(ref);
        try {
            Class<?> scrType = ref.getBundle().loadClass(SCR);
            Class<?> descType = ref.getBundle().loadClass(DESCRIPTION);
            Method descriptions = scrType.getMethod("getComponentDescriptionDTOs", Bundle[].class);
            Method configurations = scrType.getMethod("getComponentConfigurationDTOs", descType);
            Method enabled = scrType.getMethod("isComponentEnabled", descType);
            for (Object d : (Collection<?>) descriptions.invoke(scr, (Object) new Bundle[0])) {
                String name = (String) field(d, "name");
                if (!(Boolean) enabled.invoke(scr, d)) {
                    continue;
                }
                Collection<?> confs = (Collection<?>) configurations.invoke(scr, d);
                if (confs.isEmpty()) {
                    if ("require".equals(field(d, "configurationPolicy"))) {
                        lines.add(name + ": waiting for its configuration (PID " + pids(d) + ")");
                    }
                    continue;
                }
                for (Object c : confs) {
                    int state = (Integer) field(c, "state");
                    if (state == UNSATISFIED_REFERENCE) {
                        lines.add(name + ": missing " + references(d, field(c, "unsatisfiedReferences")));
                    } else if (state == UNSATISFIED_CONFIGURATION) {
                        lines.add(name + ": waiting for its configuration (PID " + pids(d) + ")");
                    } else if (state == FAILED_ACTIVATION) {
                        String failure = String.valueOf(field(c, "failure"));
                        lines.add(name + ": failed to activate: " + failure.lines().findFirst().orElse(""));
                    }
                }
            }
        } finally {
            context.ungetService(ref);
        }
        return lines;
    }

    private static Object field(Object dto, String name) throws ReflectiveOperationException {
        return dto.getClass().getField(name).get(dto);
    }

    private static String pids(Object description) throws ReflectiveOperationException {
        return String.join(", ", (String[]) field(description, "configurationPid"));
    }

    /** "reference (interface [target])" for each unsatisfied reference. */
    private static String references(Object description, Object unsatisfied) throws ReflectiveOperationException {
        Object declared = field(description, "references");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < Array.getLength(unsatisfied); i++) {
            Object r = Array.get(unsatisfied, i);
            String name = (String) field(r, "name");
            String type = "?";
            for (int j = 0; j < Array.getLength(declared); j++) {
                Object ref = Array.get(declared, j);
                if (name.equals(field(ref, "name"))) {
                    type = (String) field(ref, "interfaceName");
                }
            }
            Object target = field(r, "target");
            names.add(name + " (" + type + (target == null ? "" : " " + target) + ")");
        }
        return String.join(", ", names);
    }
}
