package org.kvmtool.manager.lean.jaas;

import java.io.IOException;
import java.nio.file.Path;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.FailedLoginException;
import javax.security.auth.login.LoginException;
import javax.security.auth.spi.LoginModule;

/**
 * A JAAS login module over a Karaf-format users file (option {@code users}: its path). On success the
 * subject carries a {@link UserPrincipal} and one {@link RolePrincipal} per role. The file is read at
 * every login, so an edit takes effect without a restart. Options {@code encryption.algorithm} and
 * {@code encryption.encoding} (default SHA-256, hexadecimal: Karaf's) say how {@code {CRYPT}} passwords
 * were digested.
 * <p>
 * etc/jaas.conf: {@code kvmtool { org.kvmtool.manager.lean.jaas.PropertiesLoginModule required
 * users="${kvmtool.base}/etc/users.properties"; };}
 */
public final class PropertiesLoginModule implements LoginModule {
    static final String USERS_OPTION = "users";
    /** Options for {@code {CRYPT}} passwords, as Karaf's etc/org.apache.karaf.jaas.cfg names them. */
    static final String ALGORITHM_OPTION = "encryption.algorithm";
    static final String ENCODING_OPTION = "encryption.encoding";
    private static final String KARAF_ALGORITHM = PasswordDigest.KARAF_DEFAULT.algorithm();
    private static final String KARAF_ENCODING = PasswordDigest.KARAF_DEFAULT.encoding();
    private static final Logger LOG = Logger.getLogger(PropertiesLoginModule.class.getName());

    private Subject subject;
    private CallbackHandler callbacks;
    private Path usersFile;
    private PasswordDigest digest = PasswordDigest.KARAF_DEFAULT;
    private final List<Principal> principals = new ArrayList<>();

    @Override
    public void initialize(Subject subject, CallbackHandler callbackHandler, Map<String, ?> sharedState,
                           Map<String, ?> options) {
        this.subject = subject;
        this.callbacks = callbackHandler;
        Object users = options.get(USERS_OPTION);
        this.usersFile = users == null ? null : Path.of(users.toString());
        Object algorithm = options.get(ALGORITHM_OPTION);
        Object encoding = options.get(ENCODING_OPTION);
        if (algorithm != null || encoding != null) {
            digest = new PasswordDigest(algorithm != null ? algorithm.toString() : KARAF_ALGORITHM,
                    encoding != null ? encoding.toString() : KARAF_ENCODING);
        }
    }

    @Override
    public boolean login() throws LoginException {
        if (usersFile == null) {
            throw new LoginException("the login module has no '" + USERS_OPTION + "' option");
        }
        NameCallback name = new NameCallback("user: ");
        PasswordCallback password = new PasswordCallback("password: ", false);
        try {
            callbacks.handle(new Callback[] {name, password});
        } catch (IOException | UnsupportedCallbackException e) {
            throw (LoginException) new LoginException("cannot ask for the credentials: " + e.getMessage()).initCause(e);
        }
        char[] given = password.getPassword();
        password.clearPassword();
        try {
            String user = name.getName();
            UsersFile file;
            try {
                file = UsersFile.read(usersFile);
            } catch (IOException e) {
                LOG.warning("cannot read " + usersFile + ": " + e);
                throw new FailedLoginException("no users file");
            }
            Optional<UsersFile.Account> account = user == null ? Optional.empty() : file.account(user);
            if (account.isEmpty() || given == null || !account.get().passwordMatches(given, digest)) {
                throw new FailedLoginException("wrong user or password");
            }
            principals.clear();
            principals.add(new UserPrincipal(user));
            account.get().roles().forEach(r -> principals.add(new RolePrincipal(r)));
            return true;
        } finally {
            if (given != null) {
                Arrays.fill(given, '\0');
            }
        }
    }

    @Override
    public boolean commit() {
        subject.getPrincipals().addAll(principals);
        return true;
    }

    @Override
    public boolean abort() {
        principals.clear();
        return true;
    }

    @Override
    public boolean logout() {
        subject.getPrincipals().removeAll(principals);
        principals.clear();
        return true;
    }
}
