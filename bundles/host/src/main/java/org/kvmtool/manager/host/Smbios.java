package org.kvmtool.manager.host;

import java.util.List;
import java.util.Map;

/**
 * The SMBIOS data Linux exports in /sys/class/dmi/id, as libvirt's sysinfo XML sections and entry names
 * (domaincommon.rng, sysinfo-*-name). Serial numbers and the UUID are readable by root only: an unprivileged
 * manager leaves them out.
 */
final class Smbios {
    private Smbios() {
    }

    /** A section of the sysinfo XML and its entries: libvirt's entry name -> the DMI file. */
    record Section(String element, List<Map.Entry<String, String>> entries) {
    }

    static final List<Section> SECTIONS = List.of(
            new Section("bios", List.of(Map.entry("vendor", "bios_vendor"), Map.entry("version", "bios_version"),
                    Map.entry("date", "bios_date"), Map.entry("release", "bios_release"))),
            new Section("system", List.of(Map.entry("manufacturer", "sys_vendor"), Map.entry("product", "product_name"),
                    Map.entry("version", "product_version"), Map.entry("serial", "product_serial"),
                    Map.entry("uuid", "product_uuid"), Map.entry("sku", "product_sku"),
                    Map.entry("family", "product_family"))),
            new Section("baseBoard", List.of(Map.entry("manufacturer", "board_vendor"), Map.entry("product", "board_name"),
                    Map.entry("version", "board_version"), Map.entry("serial", "board_serial"),
                    Map.entry("asset", "board_asset_tag"))),
            new Section("chassis", List.of(Map.entry("manufacturer", "chassis_vendor"),
                    Map.entry("version", "chassis_version"), Map.entry("serial", "chassis_serial"),
                    Map.entry("asset", "chassis_asset_tag"))));

    /** Every DMI file read. */
    static final List<String> FILES = SECTIONS.stream().flatMap(s -> s.entries().stream()).map(Map.Entry::getValue)
            .toList();

    /** libvirt's {@code <sysinfo type='smbios'>} of the DMI fields read; a section without any is left out. */
    static String xml(Map<String, String> dmi) {
        Xml x = new Xml();
        x.open("sysinfo", "type", "smbios");
        for (Section s : SECTIONS) {
            List<Map.Entry<String, String>> present = s.entries().stream().filter(e -> dmi.containsKey(e.getValue()))
                    .toList();
            if (present.isEmpty()) {
                continue;
            }
            x.open(s.element());
            for (Map.Entry<String, String> e : present) {
                x.text("entry", dmi.get(e.getValue()), "name", e.getKey());
            }
            x.close();
        }
        return x.close().toString();
    }
}
