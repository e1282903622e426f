package org.kvmtool.manager.shell;

import java.lang.reflect.Field;
import java.util.List;

import org.apache.karaf.shell.api.action.Option;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * virsh reads options anywhere ("domstate vm --reason", "schedinfo vm --set cpu_shares=512"); Karaf stops
 * reading options at the first argument and would count these as extra arguments. Commands collect what follows
 * their domain and this sets the command's own {@link Option} fields from it, as Karaf would have.
 */
final class TrailingOptions {
    private TrailingOptions() {
    }

    static void apply(Object action, String command, List<String> tokens) {
        if (tokens == null) {
            return;
        }
        for (int i = 0; i < tokens.size(); i++) {
            String token = tokens.get(i);
            if (!token.startsWith("-")) {
                throw new KvmtoolException(ErrorCode.INVALID_ARG, "unexpected data '" + token + "'");
            }
            String name = token;
            String value = null;
            int eq = token.indexOf('=');
            if (eq > 0) {
                name = token.substring(0, eq);
                value = token.substring(eq + 1);
            }
            Field field = optionField(action.getClass(), name);
            if (field == null) {
                throw new KvmtoolException(ErrorCode.INVALID_ARG,
                        "command '" + command + "' doesn't support option " + name);
            }
            try {
                if (field.getType() == boolean.class) {
                    if (value != null) {
                        throw new KvmtoolException(ErrorCode.INVALID_ARG, "option " + name + " takes no value");
                    }
                    field.setBoolean(action, true);
                } else {
                    if (value == null) {
                        if (i + 1 >= tokens.size()) {
                            throw new KvmtoolException(ErrorCode.INVALID_ARG, "option " + name + " needs a value");
                        }
                        value = tokens.get(++i);
                    }
                    field.set(action, value);
                }
            } catch (IllegalAccessException e) {
                throw new KvmtoolException(ErrorCode.INTERNAL_ERROR, "option " + name + ": " + e.getMessage(), e);
            }
        }
    }

    /** The field of an @Option with this name or alias (fields of the shell's commands are package-private). */
    private static Field optionField(Class<?> type, String name) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                Option o = f.getAnnotation(Option.class);
                if (o != null && (o.name().equals(name) || List.of(o.aliases()).contains(name))) {
                    return f;
                }
            }
        }
        return null;
    }
}
