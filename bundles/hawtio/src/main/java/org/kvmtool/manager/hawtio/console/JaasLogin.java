package org.kvmtool.manager.hawtio.console;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;

/**
 * HTTP basic credentials checked against Karaf's JAAS realm, as /jolokia checks them: for clients that are no
 * browser (a script's WebSocket client can send an Authorization header; a browser's cannot).
 */
final class JaasLogin {
    private final String realm;

    JaasLogin(String realm) {
        this.realm = realm;
    }

    /** The logged-in subject, or empty when the header is not basic credentials the realm accepts. */
    Optional<Subject> login(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return Optional.empty();
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) {
            return Optional.empty();
        }
        String user = decoded.substring(0, colon);
        char[] password = decoded.substring(colon + 1).toCharArray();
        Subject subject = new Subject();
        try {
            LoginContext login = new LoginContext(realm, subject, callbacks -> {
                for (Callback c : callbacks) {
                    if (c instanceof NameCallback n) {
                        n.setName(user);
                    } else if (c instanceof PasswordCallback p) {
                        p.setPassword(password);
                    } else {
                        throw new UnsupportedCallbackException(c);
                    }
                }
            });
            login.login();
            return Optional.of(subject);
        } catch (LoginException | SecurityException e) {
            return Optional.empty();
        }
    }
}
