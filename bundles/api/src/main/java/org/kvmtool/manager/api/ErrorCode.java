package org.kvmtool.manager.api;

/**
 * The closed set of error codes, modelled on libvirt's virErrorNumber. Each edge (JMX, shell,
 * libvirt RPC) maps them once; {@link #libvirtCode()} is the number virsh understands.
 */
public enum ErrorCode {
    INTERNAL_ERROR(1),
    NO_SUPPORT(3),
    NO_DOMAIN(42),
    OPERATION_INVALID(55),
    XML_ERROR(27),
    CONFIG_UNSUPPORTED(67),
    SYSTEM_ERROR(38),
    OPERATION_TIMEOUT(68),
    OPERATION_FAILED(9),
    INVALID_ARG(8),
    ACCESS_DENIED(88);

    private final int libvirtCode;

    ErrorCode(int libvirtCode) {
        this.libvirtCode = libvirtCode;
    }

    /** libvirt's numeric virErrorNumber for this code. */
    public int libvirtCode() {
        return libvirtCode;
    }
}
