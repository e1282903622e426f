package org.kvmtool.manager.console;

import org.kvmtool.manager.api.ConsoleAttachment;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** An interactive session: a reader like any other, plus the console's write slot while it holds it. */
final class Attachment implements ConsoleAttachment {
    private final Console console;
    private volatile Subscriber output;

    Attachment(Console console) {
        this.console = console;
    }

    /** Joins the console: takes the writer slot first, so a refused session never sees any output. */
    Attachment join(boolean force, int historyBytes, Subscriber output) {
        this.output = output;
        console.takeWriter(this, force);
        console.subscribe(output, historyBytes);
        return this;
    }

    /** Another session forced its way in: this one reads no more, and its listener is told. */
    void displaced() {
        console.displace(output);
    }

    @Override
    public void write(byte[] data) {
        if (!isWriter()) {
            throw console.isEnded() ? console.notOpen() : new KvmtoolException(ErrorCode.OPERATION_INVALID,
                    "this session no longer holds the console of '" + console.domain
                            + "': another session took it over");
        }
        console.write(data);
    }

    @Override
    public boolean isWriter() {
        return console.isWriter(this);
    }

    @Override
    public void close() {
        console.releaseWriter(this);
        if (output != null) {
            console.unsubscribe(output);
        }
    }
}
