package org.kvmtool.manager.core;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The manager's configuration (PID {@code org.kvmtool.manager}, file etc/org.kvmtool.manager.cfg). A blank
 * value means "the default of the mode"; the mode's defaults are resolved in {@link DriverSettings}.
 */
@ObjectClassDefinition(id = "org.kvmtool.manager", name = "kvmtool manager",
        description = "Where the kvmtool manager keeps definitions, status and logs, and how it runs lkvm")
public @interface ManagerConfig {
    @AttributeDefinition(description = "kvmtool:///system or kvmtool:///session; blank: system when running as root, else session")
    String uri() default "";

    @AttributeDefinition(name = "lkvm binary", description = "Path of lkvm; blank: lkvm on PATH")
    String lkvm_binary() default "";

    @AttributeDefinition(name = "config dir", description = "Domain definitions and autostart links; blank: /etc/kvmtool-manager or $XDG_CONFIG_HOME/kvmtool-manager")
    String config_dir() default "";

    @AttributeDefinition(name = "run dir", description = "Status files and per-domain HOME dirs (keep it short: lkvm's socket path must fit in 107 bytes); blank: /run/kvmtool-manager or $XDG_RUNTIME_DIR/kvmtool-manager")
    String run_dir() default "";

    @AttributeDefinition(name = "log dir", description = "Console logs; blank: /var/log/kvmtool-manager or $XDG_STATE_HOME/kvmtool-manager/log")
    String log_dir() default "";

    @AttributeDefinition(name = "cgroup parent", description = "Parent group of the domains' cgroups")
    String cgroup_parent() default "machine";

    @AttributeDefinition(name = "lkvm user", description = "System mode: lkvm runs as this unprivileged user (with the group of /dev/kvm)")
    String lkvm_user() default "kvmtool";

    // read by the security driver (bundles/security), which shares this PID: the key is dynamic_ownership
    @AttributeDefinition(name = "dynamic ownership", description = "System mode: the kernel, initrd and disks that "
            + "lkvm.user cannot use are lent to it (chown) for each run and given back after it (libvirt's dynamic_ownership)")
    boolean dynamic__ownership() default true;

    @AttributeDefinition(name = "shutdown timeout", description = "Seconds a guest gets to end after shutdown before it is destroyed")
    int shutdown_timeout_seconds() default 30;

    @AttributeDefinition(name = "console log size", description = "Bytes of console log kept per domain before rotation")
    long console_log_max_bytes() default 1024 * 1024;

    @AttributeDefinition(name = "hugetlbfs mount", description = "Where guests with hugepages get their RAM: a hugetlbfs mount or a directory on one; blank: the first hugetlbfs mount found")
    String hugetlbfs_mount() default "";
}
