package org.kvmtool.manager.contract;

import java.nio.file.Path;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/** The same host-device contract against a real lkvm, when the environment variable KVMTOOL_LKVM names one. */
@EnabledIfEnvironmentVariable(named = "KVMTOOL_LKVM", matches = ".+",
        disabledReason = "KVMTOOL_LKVM is not set: no real lkvm to hold the contract against")
class RealLkvmHostDevicesTest extends HostDevicesContract {
    @Override
    Path binary() {
        return Path.of(System.getenv("KVMTOOL_LKVM"));
    }
}
