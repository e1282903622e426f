package org.kvmtool.manager.lean.jaas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Principal;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.FailedLoginException;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Through JAAS's own LoginContext, as the Jolokia agent's JaasHttpAuthenticator calls it. */
class PropertiesLoginModuleTest {
    @TempDir
    Path dir;

    private LoginContext context(Path users, Subject subject, String user, String password) throws LoginException {
        Configuration config = new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return new AppConfigurationEntry[] {new AppConfigurationEntry(PropertiesLoginModule.class.getName(),
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, Map.of("users", users.toString()))};
            }
        };
        CallbackHandler handler = callbacks -> {
            for (Callback c : callbacks) {
                if (c instanceof NameCallback n) {
                    n.setName(user);
                } else if (c instanceof PasswordCallback p) {
                    p.setPassword(password.toCharArray());
                }
            }
        };
        return new LoginContext("kvmtool", subject, handler, config);
    }

    private Path users(String text) throws IOException {
        Path f = dir.resolve("users.properties");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void aGoodLoginCarriesTheUserAndTheRoles() throws Exception {
        Path f = users("ann = pw, viewer, _g_:ops\n_g_\\:ops = group, admin\n");
        Subject s = new Subject();
        context(f, s, "ann", "pw").login();
        assertEquals(Set.of(new UserPrincipal("ann")), s.getPrincipals(UserPrincipal.class));
        assertEquals(Set.of("viewer", "admin"),
                s.getPrincipals(RolePrincipal.class).stream().map(Principal::getName).collect(Collectors.toSet()));
    }

    @Test
    void aWrongPasswordOrUserFails() throws Exception {
        Path f = users("ann = pw, admin\n");
        assertThrows(FailedLoginException.class, () -> context(f, new Subject(), "ann", "PW").login());
        assertThrows(FailedLoginException.class, () -> context(f, new Subject(), "bob", "pw").login());
    }

    @Test
    void anEditTakesEffectAtTheNextLogin() throws Exception {
        Path f = users("ann = old, admin\n");
        context(f, new Subject(), "ann", "old").login();
        users("ann = new, admin\n");
        assertThrows(FailedLoginException.class, () -> context(f, new Subject(), "ann", "old").login());
        context(f, new Subject(), "ann", "new").login();
    }

    @Test
    void aMissingFileLetsNobodyIn() {
        assertThrows(FailedLoginException.class, () -> context(dir.resolve("none"), new Subject(), "ann", "pw").login());
    }

    @Test
    void logoutRemovesThePrincipals() throws Exception {
        Path f = users("ann = pw, admin\n");
        Subject s = new Subject();
        LoginContext c = context(f, s, "ann", "pw");
        c.login();
        c.logout();
        assertEquals(Set.of(), s.getPrincipals());
    }
}
