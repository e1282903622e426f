/* lkvm's client commands (builtin-list.c, builtin-stop.c, ...): each talks to an instance's IPC socket. */
#include "lkvm-standin.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool opt_all;
static const char *opt_name;

static int get_vmstate(int sock)
{
	int state;

	if (ipc_send(sock, IPC_VMSTATE, 0, NULL) < 0)
		return -1;
	if (read(sock, &state, sizeof(state)) < 0)
		return -1;
	return state;
}

static int connect_named(void)
{
	int s = get_sock_by_instance(opt_name);

	if (s <= 0)
		die("Failed locating instance");
	return s;
}

/* list */
static bool list_run, list_rootfs;
static const char *const list_usage[] = { "lkvm list", NULL };
static const struct option list_options[] = {
	OPT_GROUP("General options:"),
	OPT_BOOL('i', "run", &list_run, "List running instances"),
	OPT_BOOL('r', "rootfs", &list_rootfs, "List rootfs instances"),
	OPT_END()
};

static int print_guest(const char *name, int sock)
{
	int pid = -1, state;

	if (ipc_send(sock, IPC_PID, 0, NULL) < 0 || read(sock, &pid, sizeof(pid)) < 0)
		return -1;
	state = get_vmstate(sock);
	if (pid < 0 || state < 0)
		return -1;
	printf("%5d %-20s %s\n", pid, name, state == 1 ? "paused" : "running");
	return 0;
}

int cmd_list(int argc, const char **argv)
{
	int status = 0, r;

	while (argc)
		if ((argc = parse_options(argc, argv, list_options, list_usage, false)))
			usage_with_options(list_usage, list_options);
	if (!list_run && !list_rootfs)
		list_run = list_rootfs = true;
	printf("%6s %-20s %s\n", "PID", "NAME", "STATE");
	printf("------------------------------------\n");
	if (list_run) {
		r = enumerate_instances(print_guest);
		if (r < 0)
			perror("Error listing instances");
		status |= r;
	}
	if (list_rootfs) {
		DIR *dir = opendir(kvm_dir);
		struct dirent *e;

		if (!dir) {
			perror("Error listing rootfs");
			status |= -1;
		} else {
			while ((e = readdir(dir)))
				if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
					printf("%5s %-20s %s\n", "", e->d_name, "shut off");
			closedir(dir);
		}
	}
	return status;
}

/* stop, pause, resume */
static const char *const stop_usage[] = { "lkvm stop [--all] [-n name]", NULL };
static const struct option stop_options[] = {
	OPT_GROUP("General options:"),
	OPT_BOOL('a', "all", &opt_all, "Stop all instances"),
	OPT_STRING('n', "name", &opt_name, "name", "Instance name"),
	OPT_END()
};
static const char *const pause_usage[] = { "lkvm pause [--all] [-n name]", NULL };
static const struct option pause_options[] = {
	OPT_GROUP("General options:"),
	OPT_BOOL('a', "all", &opt_all, "Pause all instances"),
	OPT_STRING('n', "name", &opt_name, "name", "Instance name"),
	OPT_END()
};
static const char *const resume_usage[] = { "lkvm resume [--all] [-n name]", NULL };
static const struct option resume_options[] = {
	OPT_GROUP("General options:"),
	OPT_BOOL('a', "all", &opt_all, "Resume all instances"),
	OPT_STRING('n', "name", &opt_name, "name", "Instance name"),
	OPT_END()
};

static int do_stop(const char *name, int sock)
{
	(void)name;
	return ipc_send(sock, IPC_STOP, 0, NULL);
}

static int do_pause(const char *name, int sock)
{
	int state = get_vmstate(sock);

	if (state < 0)
		return state;
	if (state == 1) {
		printf("Guest %s is already paused.\n", name);
		return 0;
	}
	if (ipc_send(sock, IPC_PAUSE, 0, NULL))
		return -1;
	printf("Guest %s paused\n", name);
	return 0;
}

static int do_resume(const char *name, int sock)
{
	int state = get_vmstate(sock);

	if (state < 0)
		return state;
	if (state == 0) {
		printf("Guest %s is still running.\n", name);
		return 0;
	}
	if (ipc_send(sock, IPC_RESUME, 0, NULL))
		return -1;
	printf("Guest %s resumed\n", name);
	return 0;
}

static int simple_instance_cmd(int argc, const char **argv, const struct option *opts,
			       const char *const *usage, int (*fn)(const char *, int))
{
	int s, r;

	while (argc)
		if ((argc = parse_options(argc, argv, opts, usage, false)))
			usage_with_options(usage, opts);
	if (opt_all)
		return enumerate_instances(fn);
	if (!opt_name)
		usage_with_options(usage, opts);
	s = connect_named();
	r = fn(opt_name, s);
	close(s);
	return r;
}

/* balloon */
static u64 balloon_inflate, balloon_deflate;
static const char *const balloon_usage[] = { "lkvm balloon [-n name] [-p pid] [-i amount] [-d amount]", NULL };
static const struct option balloon_options[] = {
	OPT_GROUP("Instance options:"),
	OPT_STRING('n', "name", &opt_name, "name", "Instance name"),
	OPT_GROUP("Balloon options:"),
	OPT_U64('i', "inflate", &balloon_inflate, "Amount to inflate (in MB)"),
	OPT_U64('d', "deflate", &balloon_deflate, "Amount to deflate (in MB)"),
	OPT_END()
};

int cmd_balloon(int argc, const char **argv)
{
	int s, r, amount;

	while (argc)
		if ((argc = parse_options(argc, argv, balloon_options, balloon_usage, false)))
			usage_with_options(balloon_usage, balloon_options);
	if ((!balloon_inflate && !balloon_deflate) || !opt_name)
		usage_with_options(balloon_usage, balloon_options);
	s = connect_named();
	amount = balloon_inflate ? (int)balloon_inflate : -(int)balloon_deflate;
	r = ipc_send(s, IPC_BALLOON, sizeof(amount), &amount);
	close(s);
	return r < 0 ? -1 : 0;
}

/* stat */
static bool stat_mem;
static const char *const stat_usage[] = { "lkvm stat [command] [--all] [-n name]", NULL };
static const struct option stat_options[] = {
	OPT_GROUP("Commands options:"),
	OPT_BOOL('m', "memory", &stat_mem, "Display memory statistics"),
	OPT_GROUP("Instance options:"),
	OPT_BOOL('a', "all", &opt_all, "All instances"),
	OPT_STRING('n', "name", &opt_name, "name", "Instance name"),
	OPT_END()
};

static int do_memstat(const char *name, int sock)
{
	static const char *const what[] = {
		"The amount of memory that has been swapped in (in bytes):",
		"The amount of memory that has been swapped out to disk (in bytes):",
		"The number of major page faults that have occurred:",
		"The number of minor page faults that have occurred:",
		"The amount of memory not being used for any purpose (in bytes):",
		"The total amount of memory (in bytes):",
		"The estimated available memory (in bytes):",
		"The amount of memory in use for file caching (in bytes):",
		"The number of successful HugeTLB allocations:",
		"The number of failed HugeTLB allocations:",
	};
	struct balloon_stat stats[BALLOON_S_NR];
	int i;

	memset(stats, 0, sizeof(stats));
	if (ipc_send(sock, IPC_STAT, 0, NULL) < 0)
		return -1;
	/* lkvm's client waits in read() as long as the server does not answer */
	if (read(sock, stats, sizeof(stats)) < 0)
		return -1;
	(void)name;
	printf("\n\n\t*** Guest memory statistics ***\n\n");
	for (i = 0; i < BALLOON_S_NR; i++) {
		if (stats[i].tag < BALLOON_S_NR)
			printf("%s", what[stats[i].tag]);
		else
			printf("Unknown memory statistic (ID %u): ", stats[i].tag);
		printf("%llu\n", (unsigned long long)stats[i].val);
	}
	printf("\n");
	return 0;
}

int cmd_stat(int argc, const char **argv)
{
	int s, r = 0;

	while (argc)
		if ((argc = parse_options(argc, argv, stat_options, stat_usage, false)))
			usage_with_options(stat_usage, stat_options);
	if (!stat_mem)
		usage_with_options(stat_usage, stat_options);
	if (opt_all)
		return enumerate_instances(do_memstat);
	if (!opt_name)
		usage_with_options(stat_usage, stat_options);
	s = connect_named();
	r = do_memstat(opt_name, s);
	close(s);
	return r;
}

/* debug */
static bool debug_dump;
static int debug_nmi = -1;
static const char *debug_sysrq;
static const char *const debug_usage[] = { "lkvm debug [--all] [-n name] [-d] [-m vcpu]", NULL };
static const struct option debug_options[] = {
	OPT_GROUP("General options:"),
	OPT_BOOL('d', "dump", &debug_dump, "Generate a debug dump from guest"),
	OPT_INT('m', "nmi", &debug_nmi, "Generate NMI on VCPU"),
	OPT_STRING('s', "sysrq", &debug_sysrq, "sysrq", "Inject a sysrq"),
	OPT_GROUP("Instance options:"),
	OPT_BOOL('a', "all", &opt_all, "Debug all instances"),
	OPT_STRING('n', "name", &opt_name, "name", "Instance name"),
	OPT_END()
};

static int do_debug(const char *name, int sock)
{
	struct debug_params cmd;
	char buf[100];
	ssize_t r;

	(void)name;
	memset(&cmd, 0, sizeof(cmd));
	if (debug_dump)
		cmd.dbg_type |= DEBUG_DUMP;
	if (debug_nmi != -1) {
		cmd.dbg_type |= DEBUG_NMI;
		cmd.cpu = debug_nmi;
	}
	if (debug_sysrq) {
		cmd.dbg_type |= DEBUG_SYSRQ;
		cmd.sysrq = debug_sysrq[0];
	}
	if (ipc_send(sock, IPC_DEBUG, sizeof(cmd), &cmd) < 0)
		return -1;
	if (!debug_dump)
		return 0;
	do {
		r = read(sock, buf, sizeof(buf));
		if (r < 0)
			return 0;
		printf("%.*s", (int)r, buf);
	} while (r > 0);
	return 0;
}

int cmd_debug(int argc, const char **argv)
{
	return simple_instance_cmd(argc, argv, debug_options, debug_usage, do_debug);
}

int cmd_help(void)
{
	printf("\n To start a simple non-privileged shell run 'lkvm run'\n\n"
	       "usage: lkvm COMMAND [ARGS]\n\n"
	       " The most commonly used lkvm commands are:\n"
	       "   run       Start the virtual machine\n"
	       "   setup     Setup a new virtual machine\n"
	       "   pause     Pause the virtual machine\n"
	       "   resume    Resume the virtual machine\n"
	       "   version   Print the version of the kernel tree kvm tools\n"
	       "   list      Print a list of running instances on the host.\n"
	       "   debug     Print debug information from a running instance\n"
	       "   balloon   Inflate or deflate the virtio balloon\n"
	       "   stop      Stop a running instance\n"
	       "   stat      Print statistics about a running instance\n"
	       "   sandbox   Run a command in a sandboxed guest\n\n"
	       " See 'lkvm help COMMAND' for more information on a specific command.\n\n");
	return 0;
}

int cmd_stop(int argc, const char **argv)
{
	return simple_instance_cmd(argc, argv, stop_options, stop_usage, do_stop);
}

int cmd_pause(int argc, const char **argv)
{
	return simple_instance_cmd(argc, argv, pause_options, pause_usage, do_pause);
}

int cmd_resume(int argc, const char **argv)
{
	return simple_instance_cmd(argc, argv, resume_options, resume_usage, do_resume);
}

int cmd_version(void)
{
	printf("kvm tool %s\n", VERSION);
	return 0;
}

/* `lkvm help CMD` of a client command: its usage, exit 129; returns for any other name */
void client_command_usage(const char *cmd)
{
	if (!strcmp(cmd, "pause"))
		usage_with_options(pause_usage, pause_options);
	if (!strcmp(cmd, "resume"))
		usage_with_options(resume_usage, resume_options);
	if (!strcmp(cmd, "debug"))
		usage_with_options(debug_usage, debug_options);
	if (!strcmp(cmd, "balloon"))
		usage_with_options(balloon_usage, balloon_options);
	if (!strcmp(cmd, "list"))
		usage_with_options(list_usage, list_options);
	if (!strcmp(cmd, "stop"))
		usage_with_options(stop_usage, stop_options);
	if (!strcmp(cmd, "stat"))
		usage_with_options(stat_usage, stat_options);
}
