package org.kvmtool.manager.security;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The directories a process must be allowed to search to open a path: every directory the kernel walks,
 * those of the path as written and, where a component is a symbolic link, those of its target. Pure: the
 * resolution of each prefix (its real path) is given.
 */
final class SearchPath {
    private SearchPath() {
    }

    /**
     * Every directory that resolving {@code path} walks through, shallowest first.
     *
     * @param real the real path of a prefix of {@code path} (symbolic links resolved)
     */
    static List<Path> dirs(Path path, UnaryOperator<Path> real) {
        Set<Path> out = new LinkedHashSet<>();
        Path prefix = path.getRoot();
        out.add(prefix);
        for (int i = 0; i < path.getNameCount() - 1; i++) {
            prefix = prefix.resolve(path.getName(i));
            withAncestors(out, prefix);
            withAncestors(out, real.apply(prefix));
        }
        Path parent = real.apply(path).getParent();
        if (parent != null) {
            withAncestors(out, parent);
        }
        List<Path> sorted = new ArrayList<>(out);
        sorted.sort(Comparator.comparingInt(Path::getNameCount));
        return sorted;
    }

    private static void withAncestors(Set<Path> out, Path dir) {
        for (Path d = dir; d != null; d = d.getParent()) {
            out.add(d);
        }
    }
}
