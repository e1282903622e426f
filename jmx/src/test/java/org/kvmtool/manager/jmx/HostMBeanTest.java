package org.kvmtool.manager.jmx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.RuntimeMBeanException;
import javax.management.openmbean.CompositeData;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.CpuMap;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.HostService;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ManagerInfo;
import org.kvmtool.manager.api.NodeInfo;
import org.kvmtool.manager.api.testing.FakeDomainDriver;

/** kvmtool:type=Host in an MBeanServer: open types only, errors as every kvmtool MBean gives them. */
class HostMBeanTest {
    static final class Host implements HostService {
        @Override
        public NodeInfo nodeInfo() {
            return new NodeInfo("x86_64", 1024, 2, 2445, 1, 1, 2, 1);
        }

        @Override
        public CpuMap cpuMap() {
            return new CpuMap(2, List.of(0, 1));
        }

        @Override
        public long freeMemoryBytes() {
            return 512;
        }

        @Override
        public List<Long> cellsFreeMemory(int startCell, int maxCells) {
            return List.of(512L);
        }

        @Override
        public Map<String, Long> cpuStats(int cpu) {
            return Map.of();
        }

        @Override
        public Map<String, Long> memoryStats(int cell) {
            return Map.of();
        }

        @Override
        public int maxVcpus() {
            return 255;
        }

        @Override
        public String sysinfoXml() {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot read /sys/class/dmi/id: gone");
        }

        @Override
        public String capabilitiesXml(ManagerInfo manager) {
            return "<capabilities uri='" + manager.uri() + "'/>";
        }

        @Override
        public String domainCapabilitiesXml(ManagerInfo m, String emulator, String arch, String machine, String type) {
            return "<domainCapabilities/>";
        }
    }

    @Test
    void attributesAreOpenTypes() throws Exception {
        MBeanServer server = MBeanServerFactory.newMBeanServer();
        HostJmxComponent c = new HostJmxComponent(new Host(), new FakeDomainDriver(), server);
        CompositeData node = (CompositeData) server.getAttribute(HostJmxComponent.HOST, "NodeInfo");
        assertEquals("x86_64", node.get("model"));
        assertEquals(2445, node.get("mhz"));
        assertEquals(255, server.getAttribute(HostJmxComponent.HOST, "MaxVcpus"));
        assertEquals(512L, server.getAttribute(HostJmxComponent.HOST, "FreeMemoryBytes"));
        assertEquals("<capabilities uri='kvmtool:///session'/>", server.getAttribute(HostJmxComponent.HOST, "Capabilities"));
        RuntimeMBeanException e = assertThrows(RuntimeMBeanException.class,
                () -> server.getAttribute(HostJmxComponent.HOST, "Sysinfo"));
        assertEquals("[SYSTEM_ERROR] cannot read /sys/class/dmi/id: gone", e.getCause().getMessage());
        c.deactivate();
        assertFalse(server.isRegistered(HostJmxComponent.HOST));
    }
}
