package org.kvmtool.manager.contract;

import java.nio.file.Path;

/** The contract against the lkvm stand-in (itests/lkvm-standin), always. */
class StandinContractTest extends LkvmContract {
    @Override
    Path binary() {
        return Path.of(System.getProperty("kvmtool.standin.lkvm"));
    }
}
