package org.kvmtool.manager.contract;

import java.nio.file.Path;

/** The host-device contract against the lkvm stand-in (itests/lkvm-standin), always. */
class StandinHostDevicesTest extends HostDevicesContract {
    @Override
    Path binary() {
        return Path.of(System.getProperty("kvmtool.standin.lkvm"));
    }
}
