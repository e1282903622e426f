package org.kvmtool.manager.console;

import org.kvmtool.manager.api.ConsoleAttachment;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** An interactive session: a reader like any other, plus the console's write slot while it holds it. */
final class Attachment implements ConsoleAttachment {
    private final Console console;
    private Subscriber output;

    Attachment(Console console) {
        this.console = console;
    }

    /** Joins the console: takes the writer slot first, so a refused session never sees any output. */
    Attachment join(boolean force, Subscriber output) {
        console.takeWriter(this, force);
        this.output = console.subscribe(output);
        return this;
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
