package org.kvmtool.manager.cgroups;

import java.util.ArrayList;
import java.util.List;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Where a domain's group goes, as libvirt places its machines.
 *
 * <ul>
 * <li>Outside systemd: {@code PARENT/NAME.kvmtool}, e.g. {@code machine/vm1.kvmtool} (libvirt: {@code
 * machine/vm1.libvirt-qemu}).</li>
 * <li>When systemd manages the tree, the default parent "machine" becomes {@code machine.slice} and any parent
 * whose last component is a slice gets a scope-like group named as systemd-machined names its scopes:
 * {@code machine-NAME.kvmtool.scope}, NAME escaped as a unit name ("-" is "\x2d"), e.g.
 * {@code machine.slice/machine-my\x2dvm.kvmtool.scope}. That keeps systemd-cgls readable and the tree in
 * systemd's shape. We create the directory ourselves (no D-Bus registration with machined), so systemd does
 * not know the scope as a unit: it leaves it alone, but tools that ask systemd (machinectl) do not list it.</li>
 * </ul>
 */
final class GroupNames {
    static final String DEFAULT_PARENT = "machine";

    private GroupNames() {
    }

    /** The parent's path components under a hierarchy's base. */
    static List<String> parent(String parent, boolean systemd) {
        List<String> segments = new ArrayList<>();
        for (String s : (parent == null ? "" : parent).split("/")) {
            if (s.isEmpty()) {
                continue;
            }
            if (s.equals(".") || s.equals("..")) {
                throw new KvmtoolException(ErrorCode.INVALID_ARG, "invalid cgroup parent '" + parent + "'");
            }
            segments.add(s);
        }
        if (systemd && segments.equals(List.of(DEFAULT_PARENT))) {
            return List.of(DEFAULT_PARENT + ".slice");
        }
        return segments;
    }

    static String group(List<String> parent, String domainName) {
        if (domainName == null || domainName.isEmpty() || domainName.contains("/") || domainName.startsWith(".")) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "invalid domain name for a cgroup: '" + domainName + "'");
        }
        if (!parent.isEmpty() && parent.get(parent.size() - 1).endsWith(".slice")) {
            return "machine-" + unitEscape(domainName) + ".kvmtool.scope";
        }
        return domainName + ".kvmtool";
    }

    /** systemd's unit name escaping (systemd-escape): keep [A-Za-z0-9:_.], the rest as \xNN. */
    static String unitEscape(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == ':' || c == '_' || (c == '.' && i > 0);
            out.append(plain ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        }
        return out.toString();
    }
}
