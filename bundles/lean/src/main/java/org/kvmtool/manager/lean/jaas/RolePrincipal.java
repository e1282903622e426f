package org.kvmtool.manager.lean.jaas;

import java.security.Principal;
import java.util.Objects;

/** A role of the logged-in user ({@code admin}, {@code viewer}, ...), as Karaf's RolePrincipal. */
public record RolePrincipal(String name) implements Principal {
    public RolePrincipal {
        Objects.requireNonNull(name, "name");
    }

    @Override
    public String getName() {
        return name;
    }
}
