package org.kvmtool.manager.jmx;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.HostService;
import org.kvmtool.manager.api.NodeInfo;

/** A thin adapter: the host service as {@link HostMXBean}. */
final class HostBean implements HostMXBean {
    private static final String TARGET = "kvmtool:type=Host";

    private final HostService host;
    private final DomainDriver driver;

    HostBean(HostService host, DomainDriver driver) {
        this.host = host;
        this.driver = driver;
    }

    @Override
    public NodeInfo getNodeInfo() {
        return JmxEdge.call(TARGET, "read NodeInfo", host::nodeInfo);
    }

    @Override
    public long getFreeMemoryBytes() {
        return JmxEdge.call(TARGET, "read FreeMemoryBytes", host::freeMemoryBytes);
    }

    @Override
    public int getMaxVcpus() {
        return JmxEdge.call(TARGET, "read MaxVcpus", host::maxVcpus);
    }

    @Override
    public String getCapabilities() {
        return JmxEdge.call(TARGET, "read Capabilities", () -> host.capabilitiesXml(driver.managerInfo()));
    }

    @Override
    public String getDomainCapabilities() {
        return JmxEdge.call(TARGET, "read DomainCapabilities",
                () -> host.domainCapabilitiesXml(driver.managerInfo(), null, null, null, null));
    }

    @Override
    public String getSysinfo() {
        return JmxEdge.call(TARGET, "read Sysinfo", host::sysinfoXml);
    }
}
