package org.kvmtool.manager.lean.jaas;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * Karaf's etc/users.properties format, so one file serves both distributions:
 * <pre>
 * user = password, role1, role2, _g_:group
 * _g_\:group = group, role3, role4
 * </pre>
 * A {@code _g_:NAME} entry of a user adds the roles of group NAME (the group line's first element is
 * Karaf's placeholder and is skipped). A password is plain text, or a digest as Karaf writes it with
 * {@code encryption.enabled = true}: {@code {CRYPT}DIGEST{CRYPT}}, see {@link PasswordDigest}.
 */
public final class UsersFile {
    static final String GROUP_PREFIX = "_g_:";

    /** One user: the password and every role (direct and through groups), in file order. */
    public record Account(String password, Set<String> roles) {
        public Account {
            roles = Set.copyOf(roles);
        }

        /** With Karaf's default digest (SHA-256, hexadecimal) for {@code {CRYPT}} passwords. */
        public boolean passwordMatches(char[] given) {
            return passwordMatches(given, PasswordDigest.KARAF_DEFAULT);
        }

        public boolean passwordMatches(char[] given, PasswordDigest digest) {
            return digest.matches(password, given);
        }

        public boolean hasRole(String role) {
            return roles.contains(role);
        }
    }

    private final Map<String, Account> accounts;

    private UsersFile(Map<String, Account> accounts) {
        this.accounts = accounts;
    }

    public static UsersFile read(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            return parse(r);
        }
    }

    public static UsersFile parse(String text) {
        try {
            return parse(new StringReader(text));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static UsersFile parse(Reader reader) throws IOException {
        Properties p = new Properties();
        p.load(reader);
        Map<String, List<String>> groups = new TreeMap<>();
        Map<String, List<String>> users = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            List<String> values = split(p.getProperty(key));
            if (key.startsWith(GROUP_PREFIX)) {
                groups.put(key.substring(GROUP_PREFIX.length()), values.isEmpty() ? values : values.subList(1, values.size()));
            } else if (!values.isEmpty()) {
                users.put(key, values);
            }
        }
        Map<String, Account> accounts = new TreeMap<>();
        users.forEach((user, values) -> {
            Set<String> roles = new LinkedHashSet<>();
            for (String v : values.subList(1, values.size())) {
                if (v.startsWith(GROUP_PREFIX)) {
                    roles.addAll(groups.getOrDefault(v.substring(GROUP_PREFIX.length()), List.of()));
                } else {
                    roles.add(v);
                }
            }
            accounts.put(user, new Account(values.get(0), roles));
        });
        return new UsersFile(accounts);
    }

    /** Whether some user has {@code role}, directly or through a group. */
    public boolean anyoneHas(String role) {
        return accounts.values().stream().anyMatch(a -> a.hasRole(role));
    }

    public Optional<Account> account(String user) {
        return Optional.ofNullable(accounts.get(user));
    }

    private static List<String> split(String value) {
        List<String> out = new ArrayList<>();
        for (String s : value.split(",", -1)) {
            String t = s.strip();
            if (!t.isEmpty() || out.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }
}
