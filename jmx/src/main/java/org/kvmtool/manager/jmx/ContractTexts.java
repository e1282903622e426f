package org.kvmtool.manager.jmx;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** The descriptions a JMX console shows for the contract's attributes and operations. */
final class ContractTexts {
    private ContractTexts() {
    }

    static ContractMBean.Descriptions manager() {
        return new ContractMBean.Descriptions(
                "The kvmtool manager: defines and creates domains; each domain is kvmtool:type=Domain,name=NAME",
                texts("Uri", "kvmtool:///system or kvmtool:///session",
                        "Version", "The manager's version",
                        "HypervisorBinary", "The lkvm binary the manager runs",
                        "HypervisorVersion", "What `lkvm version` said; null when the binary is not usable",
                        "HypervisorAvailable", "Whether the lkvm binary was found and answered",
                        "HypervisorReason", "Why the lkvm binary is not usable; null when it is",
                        "CgroupLayout", "The host's cgroup layout: unified, legacy, hybrid or none",
                        "CgroupsUsable", "Whether the manager can create the domains' cgroups",
                        "CgroupReason", "Why cgroups are not usable; null when they are",
                        "DomainNames", "Every domain, sorted by name",
                        "ActiveDomainNames", "The active domains (running, paused, being shut down), sorted by name"),
                Map.of("defineDomain", "Defines (or redefines, effective at next start) a persistent domain from "
                                + "libvirt domain XML; returns its name",
                        "createDomain", "Creates and starts a transient domain from libvirt domain XML; returns its name",
                        "undefineDomain", "Removes a domain's definition; a running domain keeps running, transient"),
                Map.of("defineDomain", List.of("xml"), "createDomain", List.of("xml"),
                        "undefineDomain", List.of("name")),
                Set.of());
    }

    static ContractMBean.Descriptions domain() {
        return new ContractMBean.Descriptions(
                "A kvmtool domain (a guest run by lkvm)",
                Map.ofEntries(
                        Map.entry("Name", "The domain's name"),
                        Map.entry("Uuid", "The domain's UUID"),
                        Map.entry("State", "running, paused, shutdown (being shut down) or shutoff"),
                        Map.entry("StateReason", "Why the domain is in its state: booted, unpaused, user, shutdown, "
                                + "destroyed, crashed, failed, unknown"),
                        Map.entry("AllowedOperations", "The operations the domain's state admits now: start, shutdown, "
                                + "destroy, reboot, suspend, resume, undefine, setMemory, setAutostart (the Autostart "
                                + "attribute), sendConsole (and console sessions), memoryStats"),
                        Map.entry("Persistent", "Whether the domain has a definition (false: transient)"),
                        Map.entry("Autostart", "Whether the manager starts the domain when it starts"),
                        Map.entry("Pid", "lkvm's process id; -1 when inactive"),
                        Map.entry("Vcpus", "Number of virtual CPUs"),
                        Map.entry("MaxMemoryBytes", "The guest's memory (lkvm -m), bytes"),
                        Map.entry("CurrentMemoryBytes", "The balloon target, bytes"),
                        Map.entry("MemoryUsageBytes", "Memory in use by the domain's cgroup, bytes"),
                        Map.entry("MemoryLimitBytes", "The cgroup's hard memory limit, bytes; -1 = unlimited. "
                                + "Writable: live on a running domain and kept in the definition"),
                        Map.entry("CpuTimeNanos", "CPU time used by the domain's cgroup, nanoseconds"),
                        Map.entry("CpuShares", "The domain's CPU weight (cgroup v1 shares). Writable: live and kept"),
                        Map.entry("ConsolePath", "The console's pty; null when inactive"),
                        Map.entry("UptimeSeconds", "Seconds since lkvm started; 0 when inactive"),
                        Map.entry("VcpuThreadIds", "Thread ids of the kvm-vcpu-N threads, index = vCPU"),
                        Map.entry("InterfaceStats", "Per interface with a tap (bridge, ethernet): the tap and its counters "
                                + "from the guest's side (rx = what the guest received), as virsh domifstat; empty when inactive")),
                Map.ofEntries(
                        Map.entry("start", "Starts the domain"),
                        Map.entry("shutdown", "Asks the guest to shut down; the state is shutdown until lkvm ends"),
                        Map.entry("destroy", "Ends lkvm at once"),
                        Map.entry("reboot", "Stops and starts the domain again (kvmtool has no reboot)"),
                        Map.entry("suspend", "Pauses the domain's vCPUs"),
                        Map.entry("resume", "Resumes a paused domain"),
                        Map.entry("undefine", "Removes the definition; a running domain keeps running, transient"),
                        Map.entry("dumpXml", "The definition as canonical libvirt domain XML"),
                        Map.entry("consoleLog", "The last maxBytes bytes of console output"),
                        Map.entry("sendConsole", "Sends text to the console")),
                Map.of("consoleLog", List.of("maxBytes"), "sendConsole", List.of("text")),
                Set.of("dumpXml", "consoleLog"));
    }

    private static Map<String, String> texts(String... keysAndValues) {
        Map<String, String> map = new java.util.HashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return Map.copyOf(map);
    }

    static final String RECENT_EVENTS = "The last lifecycle events, oldest first, as in the kvmtool.domain.lifecycle "
            + "notifications: a pull feed for clients without JMX notifications; de-duplicate by sequence";

    static final String SET_MEMORY = "Sets the balloon target in bytes (at most MaxMemoryBytes)";
}
