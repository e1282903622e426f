package org.kvmtool.manager.api;

/**
 * libvirt domain XML <-> {@link DomainDefinition}. Parsing is hardened (no DTD, no entities, no
 * XInclude, size and depth limits) and strict: unknown elements are errors. Errors are
 * {@link KvmtoolException}s with code XML_ERROR (malformed or invalid) or CONFIG_UNSUPPORTED (libvirt
 * accepts it, kvmtool cannot do it), whose message names the element path and line:column, e.g.
 * {@code "unsupported configuration: /domain/devices/disk[2]/target/@bus='ide' (line 12:7): kvmtool only has virtio disks"}.
 */
public interface DomainXmlCodec {
    /** Parses and validates; generates a uuid when the XML has none. */
    DomainDefinition parse(String xml);

    /** Canonical XML: {@code parse(format(d)).equals(d)} for every valid d. */
    String format(DomainDefinition definition);
}
