package org.kvmtool.manager.shell;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** Name lookups as virsh words their failure. */
final class DomainLookup {
    private DomainLookup() {
    }

    static DomainInfo require(DomainDriver driver, String name) {
        return driver.lookup(name).orElseThrow(
                () -> new KvmtoolException(ErrorCode.NO_DOMAIN, "failed to get domain '" + name + "'"));
    }
}
