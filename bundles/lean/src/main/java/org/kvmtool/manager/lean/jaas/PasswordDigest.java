package org.kvmtool.manager.lean.jaas;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

/**
 * How a stored password is compared, as Karaf's JAAS "basic encryption" does it, so that a users file Karaf
 * has hashed ({@code encryption.enabled = true}) works here too: a stored {@code {CRYPT}X{CRYPT}} is the
 * unsalted digest of the password with {@code algorithm}, encoded in {@code encoding} ({@code hexadecimal},
 * compared case-insensitively, or {@code base64}); anything else is the password itself. Every comparison
 * takes the same time whatever the guess.
 */
public record PasswordDigest(String algorithm, String encoding) {
    public static final PasswordDigest KARAF_DEFAULT = new PasswordDigest("SHA-256", "hexadecimal");
    static final String CRYPT = "{CRYPT}";

    public PasswordDigest {
        try {
            MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException("no digest algorithm " + algorithm, e);
        }
        if (!encoding.equalsIgnoreCase("hexadecimal") && !encoding.equalsIgnoreCase("base64")) {
            throw new IllegalArgumentException("encoding " + encoding + " is neither hexadecimal nor base64");
        }
    }

    public boolean matches(String stored, char[] given) {
        byte[] guess = new String(given).getBytes(StandardCharsets.UTF_8);
        if (stored.length() > 2 * CRYPT.length() && stored.startsWith(CRYPT) && stored.endsWith(CRYPT)) {
            String expected = stored.substring(CRYPT.length(), stored.length() - CRYPT.length());
            String actual = encode(digest(guess));
            if (hex()) {
                expected = expected.toLowerCase(Locale.ROOT);
            }
            return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                    actual.getBytes(StandardCharsets.US_ASCII));
        }
        return MessageDigest.isEqual(stored.getBytes(StandardCharsets.UTF_8), guess);
    }

    /** The stored form of {@code password}: what Karaf writes into users.properties. */
    public String crypt(String password) {
        return CRYPT + encode(digest(password.getBytes(StandardCharsets.UTF_8))) + CRYPT;
    }

    private byte[] digest(byte[] b) {
        try {
            return MessageDigest.getInstance(algorithm).digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private String encode(byte[] d) {
        return hex() ? HexFormat.of().formatHex(d) : Base64.getEncoder().encodeToString(d);
    }

    private boolean hex() {
        return encoding.equalsIgnoreCase("hexadecimal");
    }
}
