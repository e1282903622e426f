/**
 * Per-domain cgroups on every host layout, behind {@link org.kvmtool.manager.api.CgroupService}.
 *
 * <p>What happens on each layout (detected once from /proc/self/mountinfo, /proc/self/cgroup and the
 * hierarchies' directories; cgroup v2 is tried first for each controller):
 * <ul>
 * <li><b>unified</b> (pure v2, most current distributions): one directory per domain. cpu.stat usage_usec,
 * memory.current, memory.max, cpu.weight (shares converted, see {@link org.kvmtool.manager.cgroups.CpuWeight}).
 * "+cpu +memory" are enabled in cgroup.subtree_control from the base down to the parent where missing.</li>
 * <li><b>legacy</b> (pure v1): one directory per hierarchy holding cpu, cpuacct, memory (one for comounted
 * cpu,cpuacct). cpuacct.usage, memory.usage_in_bytes minus total_cache, memory.limit_in_bytes, cpu.shares.</li>
 * <li><b>hybrid</b> (v1 controllers plus a cgroup2 mount, e.g. /sys/fs/cgroup/unified): each controller from
 * the hierarchy that holds it, v2 first; an empty cgroup2 (this machine kind) holds none, so all three come
 * from v1. Where the v2 hierarchy holds nothing and no v1 cpuacct is mounted, CPU time comes from v2's
 * core cpu.stat.</li>
 * <li><b>systemd</b> (init.scope at the base): the default parent "machine" becomes machine.slice and groups
 * are named machine-NAME.kvmtool.scope (see {@link org.kvmtool.manager.cgroups.GroupNames}).</li>
 * <li><b>inside a container</b>: the visible root is the container's group (cgroup namespace, or a bind-mounted
 * subtree); usable when writable, except on v2 when that root holds processes and lacks the controllers in
 * its subtree_control (the no-internal-process rule), or when cgroupfs is mounted read-only: then not usable,
 * with the reason.</li>
 * <li><b>not root</b> (session mode): the topmost writable directory on the way down to the process's own
 * group is used (systemd's user@UID.service delegation); without one, not usable, with the reason.</li>
 * <li><b>none</b>: not usable; the driver passes a null group and gets per-process figures from /proc.</li>
 * </ul>
 * A controller missing from the host leaves its figures at -1 and its setter failing with SYSTEM_ERROR.
 * The service is immutable after activation and safe to call from any thread.
 */
package org.kvmtool.manager.cgroups;
