package org.kvmtool.manager.core;

import org.kvmtool.manager.api.CgroupService;
import org.kvmtool.manager.api.ConsoleService;
import org.kvmtool.manager.api.DomainXmlCodec;
import org.kvmtool.manager.api.ExitWatcher;
import org.kvmtool.manager.api.Hypervisor;
import org.kvmtool.manager.api.LkvmControl;
import org.kvmtool.manager.api.NetworkService;
import org.kvmtool.manager.api.ProcessSpawner;
import org.kvmtool.manager.api.SecurityDriver;

/** The services the driver is built on, as one value to pass around. */
record Services(DomainXmlCodec codec, Hypervisor hypervisor, ProcessSpawner spawner, ExitWatcher exits,
                LkvmControl control, CgroupService cgroups, ConsoleService console, SecurityDriver security,
                NetworkService network) {
}
