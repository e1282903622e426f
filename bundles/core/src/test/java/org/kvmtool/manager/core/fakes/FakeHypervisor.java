package org.kvmtool.manager.core.fakes;

import java.util.ArrayList;
import java.util.List;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.Hypervisor;
import org.kvmtool.manager.api.HypervisorInfo;
import org.kvmtool.manager.api.KvmtoolException;

public final class FakeHypervisor implements Hypervisor {
    public volatile boolean available = true;

    @Override
    public HypervisorInfo probe(String configured) {
        String bin = configured == null ? "/usr/bin/lkvm" : configured;
        return available ? new HypervisorInfo(bin, true, "3.18.0", null)
                : new HypervisorInfo(bin, false, null, "lkvm not found on PATH");
    }

    @Override
    public List<String> commandLine(DomainDefinition d, String binary, String homeDir, String hugetlbfs) {
        String sock = socketPath(homeDir, d.name());
        if (sock.getBytes().length > 107) {
            throw new KvmtoolException(ErrorCode.CONFIG_UNSUPPORTED, "socket path " + sock + " is longer than 107 bytes");
        }
        List<String> a = new ArrayList<>(List.of(d.emulator() != null ? d.emulator() : binary, "run", "--name", d.name(),
                "-k", d.os().kernel(), "-m", Long.toString(d.maxMemoryBytes() >> 20), "-c", Integer.toString(d.vcpus()),
                "--nodefaults"));
        if (d.devices().balloon()) {
            a.add("--balloon");
        }
        if (hugetlbfs != null) {
            a.addAll(List.of("--hugetlbfs", hugetlbfs));
        }
        for (var n : d.devices().interfaces()) {
            if (n.hasTap() && n.tapDevice() == null) {
                throw new KvmtoolException(ErrorCode.CONFIG_UNSUPPORTED, "interface without a tap name");
            }
            a.addAll(List.of("-n", n.hasTap() ? "mode=tap,tapif=" + n.tapDevice() : "mode=user"));
        }
        if (d.devices().vsock() != null) {
            a.addAll(List.of("--vsock", String.valueOf(d.devices().vsock().cid())));
        }
        return a;
    }

    @Override
    public String socketPath(String homeDir, String name) {
        return homeDir + "/.lkvm/" + name + ".sock";
    }
}
