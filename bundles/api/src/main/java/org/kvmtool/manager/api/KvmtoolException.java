package org.kvmtool.manager.api;

import java.util.Objects;

/**
 * The one exception type crossing bundle boundaries. The message is one line, meant for the user
 * ("domain is not running"); the cause, if any, is for the log.
 */
public class KvmtoolException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;

    public KvmtoolException(ErrorCode code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    public KvmtoolException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    public ErrorCode code() {
        return code;
    }

    @Override
    public String toString() {
        return code + ": " + getMessage();
    }
}
