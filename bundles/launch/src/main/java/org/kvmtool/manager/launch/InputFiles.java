package org.kvmtool.manager.launch;

import java.util.ArrayList;
import java.util.List;

/**
 * The files an lkvm argv refers to, as "LABEL=PATH": the exec helper checks them as the final user
 * before exec, so "kernel /x: No such file or directory" replaces a dead lkvm with a message in its
 * console. Pure.
 *
 * @param readable files and directories lkvm reads (kernel, initrd, firmware, read-only disks, 9p dirs)
 * @param writable disks lkvm opens read-write
 */
record InputFiles(List<String> readable, List<String> writable) {
    static InputFiles of(List<String> argv) {
        List<String> readable = new ArrayList<>();
        List<String> writable = new ArrayList<>();
        for (int i = 1; i < argv.size(); i++) {
            String arg = argv.get(i);
            int eq = arg.indexOf('=');
            boolean joined = arg.startsWith("--") && eq > 0; // --kernel=PATH
            String label = label(joined ? arg.substring(0, eq) : arg);
            if (label == null) {
                continue;
            }
            String value;
            if (joined) {
                value = arg.substring(eq + 1);
            } else if (i + 1 < argv.size()) {
                value = argv.get(++i);
            } else {
                break;
            }
            switch (label) {
                case "disk" -> {
                    String[] parts = value.split(",");
                    boolean readOnly = List.of(parts).subList(1, parts.length).contains("ro");
                    (readOnly ? readable : writable).add(label + "=" + parts[0]);
                }
                case "9p-share" -> readable.add(label + "=" + value.split(",")[0]);
                default -> readable.add(label + "=" + value);
            }
        }
        return new InputFiles(List.copyOf(readable), List.copyOf(writable));
    }

    private static String label(String option) {
        return switch (option) {
            case "-k", "--kernel" -> "kernel";
            case "-i", "--initrd" -> "initrd";
            case "-f", "--firmware" -> "firmware";
            case "-d", "--disk" -> "disk";
            case "--9p" -> "9p-share";
            default -> null;
        };
    }
}
