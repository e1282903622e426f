package org.kvmtool.manager.lean.jaas;

import java.security.Principal;
import java.util.Objects;

/** The logged-in user. */
public record UserPrincipal(String name) implements Principal {
    public UserPrincipal {
        Objects.requireNonNull(name, "name");
    }

    @Override
    public String getName() {
        return name;
    }
}
