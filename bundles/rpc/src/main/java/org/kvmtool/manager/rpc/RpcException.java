package org.kvmtool.manager.rpc;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** An error to send back as a remote_error: libvirt's numeric code and a one-line message. */
final class RpcException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** virErrorNumber values the RPC layer uses beyond the driver's {@link ErrorCode}s. */
    static final int VIR_ERR_NO_SUPPORT = 3;
    static final int VIR_ERR_RPC = 39;
    static final int VIR_ERR_OPERATION_DENIED = 29;
    static final int VIR_ERR_NO_CONNECT = 5;

    final int code;

    RpcException(int code, String message) {
        super(message);
        this.code = code;
    }

    static RpcException of(KvmtoolException e) {
        return new RpcException(e.code().libvirtCode(), e.getMessage());
    }

    static RpcException malformed(String what) {
        return new RpcException(VIR_ERR_RPC, "Unable to decode message payload: " + what);
    }

    static RpcException noSupport(String what) {
        return new RpcException(VIR_ERR_NO_SUPPORT, "this function is not supported by the connection driver: " + what);
    }
}
