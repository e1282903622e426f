package org.kvmtool.manager.host;

import java.util.ArrayList;
import java.util.List;

/**
 * What /proc/cpuinfo says of the host CPU: the first processor's vendor, model name and flags, and the clock as
 * libvirt reads it (the integer part of the last "cpu MHz" line; 0 when there is none, as on ARM).
 */
record CpuInfo(String vendorId, String modelName, List<String> flags, int mhz) {
    CpuInfo {
        flags = List.copyOf(flags);
    }

    static CpuInfo parse(String text) {
        String vendor = null;
        String model = null;
        List<String> flags = null;
        int mhz = 0;
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            switch (key) {
                case "vendor_id" -> vendor = vendor == null ? value : vendor;
                case "model name" -> model = model == null ? value : model;
                case "flags", "Features" -> {
                    if (flags == null) {
                        flags = value.isEmpty() ? List.of() : List.of(value.split("\\s+"));
                    }
                }
                case "cpu MHz" -> mhz = integerPart(value, mhz);
                default -> {
                }
            }
        }
        return new CpuInfo(vendor, model, flags == null ? new ArrayList<>() : flags, mhz);
    }

    private static int integerPart(String value, int otherwise) {
        int end = 0;
        while (end < value.length() && Character.isDigit(value.charAt(end))) {
            end++;
        }
        return end == 0 ? otherwise : Integer.parseInt(value.substring(0, end));
    }

    /** libvirt's vendor names for the CPUID vendor strings it knows; others as the kernel gives them. */
    String vendor() {
        if (vendorId == null) {
            return null;
        }
        return switch (vendorId) {
            case "GenuineIntel" -> "Intel";
            case "AuthenticAMD" -> "AMD";
            case "HygonGenuine" -> "Hygon";
            case "CentaurHauls" -> "VIA";
            case "  Shanghai  " -> "Zhaoxin";
            default -> vendorId;
        };
    }
}
