package org.kvmtool.manager.cgroups;

import java.nio.file.Path;
import java.time.Duration;

import org.kvmtool.manager.api.CgroupRef;
import org.kvmtool.manager.api.CgroupStats;
import org.kvmtool.manager.api.CgroupSupport;
import org.kvmtool.manager.api.KvmtoolException;

/**
 * Run by {@link SessionModeTest} as an unprivileged user (uid 65534): what the service does for a session-mode
 * manager. Prints key=value lines. Usage: SessionProbe real|FIXTURE_TOP PARENT
 */
public final class SessionProbe {
    private SessionProbe() {
    }

    public static void main(String[] args) {
        boolean real = args[0].equals("real");
        Path top = real ? null : Path.of(args[0]);
        HostPaths paths = real ? HostPaths.system() : new HostPaths(top.resolve("proc/self/mountinfo"),
                top.resolve("proc/self/cgroup"), top.resolve("sys/fs/cgroup"), Path.of("/proc"));
        CgroupServiceImpl service = new CgroupServiceImpl(paths, Duration.ofSeconds(1));
        CgroupSupport support = service.support();
        System.out.println("layout=" + support.layout());
        System.out.println("usable=" + support.usable());
        System.out.println("reason=" + support.reason());
        service.layout().used().forEach(h -> System.out.println("base." + h.backend().version() + "=" + h.base()));
        try {
            CgroupRef ref = service.create(args[1], "vm1");
            System.out.println("create=" + String.join(" ", ref.dirs()));
        } catch (KvmtoolException e) {
            System.out.println("create=" + e.code() + " " + e.getMessage());
        }
        CgroupStats stats = service.stats(null, ProcessHandle.current().pid());
        System.out.println("proc=" + stats.source() + " " + stats.cpuTimeNanos() + " " + stats.memoryUsageBytes());
        // a directory the user does not own: the root of the first hierarchy, or user.slice in the fixture
        Path forbidden = real ? service.layout().used().get(0).dir().resolve(args[1])
                : top.resolve("sys/fs/cgroup/user.slice").resolve(args[1]);
        try {
            CgroupFs.mkdir(forbidden);
            System.out.println("mkdir=created " + forbidden);
        } catch (KvmtoolException e) {
            System.out.println("mkdir=" + e.getMessage());
        }
    }
}
