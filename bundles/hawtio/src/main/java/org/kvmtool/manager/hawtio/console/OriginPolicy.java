package org.kvmtool.manager.hawtio.console;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.jolokia.restrictor.PolicyRestrictor;

/**
 * Which browser pages may open a console: the allow-origin list of a Jolokia access policy (by default
 * etc/jolokia-access.xml, the policy of /jolokia), read by Jolokia's own PolicyRestrictor and asked as Jolokia
 * asks it for every request: an Origin must match a listed one (wildcards as Jolokia reads them), and a
 * handshake without an Origin is no browser's (a script's) and passes unless the policy says strict-checking.
 * A missing or broken file admits no browser at all.
 */
final class OriginPolicy implements Predicate<String> {
    private static final Logger LOG = Logger.getLogger(OriginPolicy.class.getName());

    private final Predicate<String> allows;
    private final String source;

    private OriginPolicy(Predicate<String> allows, String source) {
        this.allows = allows;
        this.source = source;
    }

    static OriginPolicy read(Path file) {
        if (file == null) {
            LOG.severe("kvmtool console: no Jolokia access policy to take the allowed origins from:"
                    + " no browser may open a console");
            return new OriginPolicy(origin -> origin == null, "none");
        }
        try (InputStream in = Files.newInputStream(file)) {
            PolicyRestrictor policy = new PolicyRestrictor(in);
            return new OriginPolicy(origin -> policy.isOriginAllowed(origin, false), file.toString());
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.SEVERE, "kvmtool console: cannot read the Jolokia access policy " + file
                    + ": no browser may open a console", e);
            return new OriginPolicy(origin -> origin == null, file + " (unreadable)");
        }
    }

    /** @param origin the handshake's Origin header, or null */
    @Override
    public boolean test(String origin) {
        return allows.test(origin);
    }

    @Override
    public String toString() {
        return "origins of " + source;
    }
}
