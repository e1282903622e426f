package org.kvmtool.manager.security;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The runs a lent file is lent to, kept on the file itself (trusted.kvmtool.dac.refs, one holder a line): its
 * size is the reference count. A set rather than a number, so that adding or removing a run twice (a manager
 * killed between the change and its record, then recovering) changes nothing. A holder is
 * {@code NAME@MANAGER@BOOT}: the domain, the manager (a hash of its state directory: a Karaf and a lean
 * runtime on one host do not take each other's holders for their own) and the host's boot (a holder of an
 * earlier boot has no process left: its run is over). Pure.
 */
record Holders(Set<String> all) {
    Holders {
        all = Set.copyOf(new LinkedHashSet<>(all));
    }

    static Holders parse(String xattr) {
        Set<String> out = new LinkedHashSet<>();
        if (xattr != null) {
            for (String line : xattr.split("\n")) {
                if (!line.isBlank()) {
                    out.add(line.strip());
                }
            }
        }
        return new Holders(out);
    }

    static String token(String domain, String manager, String boot) {
        return domain + "@" + manager + "@" + boot;
    }

    /** The xattr value; sorted, so that equal sets are equal text. */
    String format() {
        List<String> sorted = new ArrayList<>(all);
        sorted.sort(null);
        return String.join("\n", sorted) + "\n";
    }

    boolean isEmpty() {
        return all.isEmpty();
    }

    Holders with(String token) {
        Set<String> s = new LinkedHashSet<>(all);
        s.add(token);
        return new Holders(s);
    }

    Holders without(String token) {
        Set<String> s = new LinkedHashSet<>(all);
        s.remove(token);
        return new Holders(s);
    }

    /**
     * Without the holders whose run is certainly over: those of an earlier boot, and those of this manager
     * ({@code manager}) for which {@code recorded} says no record exists (a record is written before its holder
     * is added and removed after its holder is gone, so a live run always has one).
     */
    Holders live(String manager, String boot, Predicate<String> recorded) {
        Set<String> s = new LinkedHashSet<>();
        for (String t : all) {
            String[] p = t.split("@", -1);
            if (p.length != 3 || !p[2].equals(boot)) {
                continue;
            }
            if (p[1].equals(manager) && !recorded.test(p[0])) {
                continue;
            }
            s.add(t);
        }
        return new Holders(s);
    }

    /** The domains named, for messages. */
    List<String> domains() {
        return all.stream().map(t -> t.split("@", -1)[0]).sorted().toList();
    }
}
