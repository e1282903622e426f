package org.kvmtool.manager.api;

import java.util.List;

/** The lkvm binary: where it is, what version, and the command line for a domain. */
public interface Hypervisor {
    /**
     * Finds the binary (the configured path, else {@code lkvm} on PATH, else /usr/bin/lkvm,
     * /usr/local/bin/lkvm) and runs {@code lkvm version}. Never throws: unavailability is a result.
     *
     * @param configured the configured binary, or null/blank for the search
     */
    HypervisorInfo probe(String configured);

    /**
     * The lkvm argv for a definition: a pure function (no I/O, no clock). argv[0] is {@code binary}
     * (or the domain's {@code <emulator>}). Throws CONFIG_UNSUPPORTED when the definition cannot run
     * under kvmtool, e.g. the socket path {@code homeDir/.lkvm/NAME.sock} would not fit in sun_path.
     */
    default List<String> commandLine(DomainDefinition definition, String binary, String homeDir) {
        return commandLine(definition, binary, homeDir, null);
    }

    /**
     * As above, for a host where guest RAM may come from hugetlbfs: {@code hugetlbfs} is the directory lkvm gets
     * with {@code --hugetlbfs} for a definition with hugepages (null: none; such a definition is then refused).
     * The caller has checked it (kvmtool only checks that it is a hugetlbfs).
     */
    List<String> commandLine(DomainDefinition definition, String binary, String homeDir, String hugetlbfs);

    /** {@code homeDir/.lkvm/NAME.sock}: where lkvm will listen. */
    String socketPath(String homeDir, String name);
}
