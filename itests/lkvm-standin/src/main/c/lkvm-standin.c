/*
 * lkvm stand-in: a test double of kvmtool's `lkvm` 3.18.0 (x86), for CI
 * machines where kvmtool is not installed. Test-only: no product code knows
 * it. It reproduces what a manager can observe of the real binary (see
 * kvmtool-facts.md and the report of issue #3): command line and messages,
 * exit codes, $HOME/.lkvm/NAME.sock with ghost handling, the IPC protocol
 * served by one blocking epoll thread, pause/stop semantics, thread names,
 * guest memory, CPU time, the serial console through stdin/stdout.
 *
 * Written from kvmtool's observable behaviour; no kvmtool code is copied.
 *
 * GUEST SELECTION (by the kernel file, as with the real lkvm)
 *  - the test guest (itests/guest, recognised by the signature
 *    "KVMTOOL-MANAGER-TEST-GUEST/"): emulated exactly: "GUEST READY\r\n",
 *    touches the RAM above 1 MiB, echoes every byte, 'q' -> "GUEST
 *    POWEROFF\r\n" and an i8042 reset (lkvm ends normally, exit 0).
 *  - a bzImage ("HdrS" at offset 0x202): the Linux-like guest (below).
 *  - a marker file: first line "KVMTOOL-STANDIN" followed by tokens
 *    separated by blanks:
 *      linux                 the Linux-like guest (loaded as a bzImage, so no
 *                            flat-binary warnings): prints
 *                            "[    0.000000] Command line: CMDLINE\r\n" and
 *                            "STANDIN LINUX READY\r\n", echoes input, has
 *                            every virtio driver (a balloon driver: STAT
 *                            answers, inflate releases memory), honours
 *                            SysRq: s, u print what Linux prints, b resets
 *                            (lkvm ends normally), o halts (lkvm runs on,
 *                            vCPUs idle), p shows regs, others print help.
 *                            Without it the marker guest behaves like the
 *                            test guest (banner, RAM touch, echo, 'q').
 *      crash-after-ms=N      lkvm dies of SIGSEGV N ms after start
 *      flood=N               the guest writes N bytes to the console after
 *                            its banner (lines of a repeating pattern)
 *      ignore-sigterm        SIGTERM is ignored (SIGKILL still works)
 *      socket-delay-ms=N     N ms before the IPC socket is created (default
 *                            10, standing for lkvm's KVM set-up: the real
 *                            socket appears 6-50 ms after spawn)
 *      listen-delay-ms=N     N ms between bind() and listen() (connects in
 *                            that window get ECONNREFUSED)
 *      handlers-delay-ms=N   N ms between adding the socket to the IPC
 *                            thread's epoll and registering the request
 *                            handlers (lkvm's kvm-ipc.c order: a request
 *                            in that window is dropped unanswered, with
 *                            "No device handles type N")
 *      poweroff-after-ms=N   the guest resets the machine by itself after
 *                            N ms (lkvm ends normally, exit 0)
 *      cpu-percent=N         duty cycle of a running vCPU (default 10)
 *      fail=cpu|nodev|noperm start fails like lkvm on a host without VMX,
 *                            without /dev/kvm, or without access to it
 *  - any other file: a flat binary that prints nothing and runs on; an
 *    empty file fails like lkvm ("read: Success", exit 1).
 *
 * Known differences: no KVM is used, so the kernel task kvm-nx-lpage-re
 * is absent; tap devices, VFIO, vhost and framebuffers are accepted and not
 * created; `setup` and `sandbox` are not emulated.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

#define VERSION "3.18.0"
#define MB_SHIFT 20
#define TERM_MAX_DEVS 4
#define FIFO_LEN 64
#define LSR_DR 0x01
#define LSR_BI 0x10
#define HUGETLBFS_MAGIC_NR 0x958458f6
#define TEST_GUEST_SIGNATURE "KVMTOOL-MANAGER-TEST-GUEST/"
#define MARKER "KVMTOOL-STANDIN"

/* ------------------------------------------------------------------ */
/* messages: lkvm writes " " + "<level>: " + text to stderr            */

enum { LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
static int loglevel = LOG_INFO;

static void report(const char *prefix, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, " %s%s\n", prefix, msg);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(" Fatal: ", fmt, ap);
	va_end(ap);
	exit(128);
}

#define DEFINE_PR(name, level, prefix)					\
	static void __attribute__((format(printf, 1, 2))) name(const char *fmt, ...) \
	{								\
		va_list ap;						\
		if (loglevel < level)					\
			return;						\
		va_start(ap, fmt);					\
		report(prefix, fmt, ap);				\
		va_end(ap);						\
	}
DEFINE_PR(pr_err, LOG_ERROR, " Error: ")
DEFINE_PR(pr_warning, LOG_WARNING, " Warning: ")
DEFINE_PR(pr_info, LOG_INFO, " Info: ")

static void __attribute__((noreturn)) die_perror(const char *s)
{
	perror(s);
	exit(1);
}

static ssize_t write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t left = len;

	while (left) {
		ssize_t n = write(fd, p, left);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += n;
		left -= n;
	}
	return len;
}

static ssize_t read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void set_thread_name(const char *name)
{
	/* like lkvm: the kernel keeps the first 15 characters */
	prctl(PR_SET_NAME, name);
}

/* ------------------------------------------------------------------ */
/* option parsing with the behaviour of lkvm's parse-options            */

enum opt_type { O_END, O_GROUP, O_BOOL, O_INT, O_U64, O_STRING, O_CALLBACK };
#define OF_NOARG	1	/* callback without argument */
#define OF_LASTARG_DEFAULT 2	/* argument optional when last or before an option */

struct option {
	enum opt_type type;
	char short_name;
	const char *long_name;
	void *value;
	const char *argh;
	const char *help;
	int flags;
	int (*callback)(const struct option *opt, const char *arg, int unset);
};

#define OPT_GROUP(h)			{ O_GROUP, 0, NULL, NULL, NULL, h, 0, NULL }
#define OPT_BOOL(s, l, v, h)		{ O_BOOL, s, l, v, NULL, h, 0, NULL }
#define OPT_INT(s, l, v, h)		{ O_INT, s, l, v, NULL, h, 0, NULL }
#define OPT_U64(s, l, v, h)		{ O_U64, s, l, v, NULL, h, 0, NULL }
#define OPT_STRING(s, l, v, a, h)	{ O_STRING, s, l, v, a, h, 0, NULL }
#define OPT_CALLBACK(s, l, v, a, h, cb)	{ O_CALLBACK, s, l, v, a, h, 0, cb }
#define OPT_CALLBACK_NOARG(s, l, v, h, cb) { O_CALLBACK, s, l, v, NULL, h, OF_NOARG, cb }
#define OPT_CALLBACK_DEFAULT(s, l, v, a, h, cb) { O_CALLBACK, s, l, v, a, h, OF_LASTARG_DEFAULT, cb }
#define OPT_END()			{ O_END, 0, NULL, NULL, NULL, NULL, 0, NULL }

#define FL_SHORT 1
#define FL_UNSET 2

struct parse_ctx {
	const char **argv;
	int argc;
	const char *opt;	/* rest of an aggregated short option or "=value" */
};

#define USAGE_OPTS_WIDTH 24
#define USAGE_GAP 2

static void usage_print(const char *const *usagestr, const struct option *opts)
{
	fprintf(stderr, "\n usage: %s\n", *usagestr++);
	while (*usagestr && **usagestr)
		fprintf(stderr, "    or: %s\n", *usagestr++);
	while (*usagestr) {
		fprintf(stderr, "%s%s\n", **usagestr ? "    " : "", *usagestr);
		usagestr++;
	}
	if (opts->type != O_GROUP)
		fputc('\n', stderr);
	for (; opts->type != O_END; opts++) {
		int pos, pad;

		if (opts->type == O_GROUP) {
			fputc('\n', stderr);
			if (*opts->help)
				fprintf(stderr, "%s\n", opts->help);
			continue;
		}
		pos = fprintf(stderr, "    ");
		if (opts->short_name)
			pos += fprintf(stderr, "-%c", opts->short_name);
		else
			pos += fprintf(stderr, "    ");
		if (opts->long_name && opts->short_name)
			pos += fprintf(stderr, ", ");
		if (opts->long_name)
			pos += fprintf(stderr, "--%s", opts->long_name);
		switch (opts->type) {
		case O_INT:
		case O_U64:
			pos += fprintf(stderr, " <n>");
			break;
		case O_CALLBACK:
			if (opts->flags & OF_NOARG)
				break;
			/* fall through */
		case O_STRING:
			if (opts->argh)
				pos += fprintf(stderr, " <%s>", opts->argh);
			else
				pos += fprintf(stderr, " ...");
			break;
		default:
			break;
		}
		if (pos <= USAGE_OPTS_WIDTH) {
			pad = USAGE_OPTS_WIDTH - pos;
		} else {
			fputc('\n', stderr);
			pad = USAGE_OPTS_WIDTH;
		}
		fprintf(stderr, "%*s%s\n", pad + USAGE_GAP, "", opts->help);
	}
	fputc('\n', stderr);
}

static void __attribute__((noreturn)) usage_with_options(const char *const *usagestr,
							  const struct option *opts)
{
	usage_print(usagestr, opts);
	exit(129);
}

static int opterror(const struct option *opt, const char *reason, int flags)
{
	if (flags & FL_SHORT)
		pr_err("switch `%c' %s", opt->short_name, reason);
	else if (flags & FL_UNSET)
		pr_err("option `no-%s' %s", opt->long_name, reason);
	else
		pr_err("option `%s' %s", opt->long_name, reason);
	return -1;
}

static int get_arg(struct parse_ctx *p, const struct option *opt, int flags, const char **arg)
{
	if (p->opt) {
		*arg = p->opt;
		p->opt = NULL;
	} else if ((opt->flags & OF_LASTARG_DEFAULT) && (p->argc == 1 || p->argv[1][0] == '-')) {
		*arg = NULL;
	} else if (p->argc > 1) {
		p->argc--;
		*arg = *++p->argv;
	} else {
		return opterror(opt, "requires a value", flags);
	}
	return 0;
}

static int get_value(struct parse_ctx *p, const struct option *opt, int flags)
{
	const char *arg = NULL;
	int unset = flags & FL_UNSET;

	if (unset && p->opt)
		return opterror(opt, "takes no value", flags);
	if (!(flags & FL_SHORT) && p->opt) {
		if (opt->type == O_BOOL || (opt->type == O_CALLBACK && (opt->flags & OF_NOARG)))
			return opterror(opt, "takes no value", flags);
	}
	switch (opt->type) {
	case O_BOOL:
		*(bool *)opt->value = !unset;
		return 0;
	case O_STRING:
		if (unset) {
			*(const char **)opt->value = NULL;
			return 0;
		}
		return get_arg(p, opt, flags, (const char **)opt->value);
	case O_CALLBACK:
		if (unset)
			return opt->callback(opt, NULL, 1) ? -1 : 0;
		if (opt->flags & OF_NOARG)
			return opt->callback(opt, NULL, 0) ? -1 : 0;
		if (get_arg(p, opt, flags, &arg))
			return -1;
		return opt->callback(opt, arg, 0) ? -1 : 0;
	case O_INT:
		if (unset) {
			*(int *)opt->value = 0;
			return 0;
		}
		if (get_arg(p, opt, flags, &arg))
			return -1;
		*(int *)opt->value = strtol(arg, NULL, 0);
		return 0;
	case O_U64:
		if (unset) {
			*(u64 *)opt->value = 0;
			return 0;
		}
		if (get_arg(p, opt, flags, &arg))
			return -1;
		*(u64 *)opt->value = strtoull(arg, NULL, 0);
		return 0;
	default:
		die("should not happen, someone must be hit on the forehead");
	}
}

static const char *skip_prefix(const char *str, const char *prefix)
{
	size_t len = strlen(prefix);

	return strncmp(str, prefix, len) ? NULL : str + len;
}

static bool starts_with(const char *str, const char *prefix)
{
	return strncmp(str, prefix, strlen(prefix)) == 0;
}

static int parse_short_opt(struct parse_ctx *p, const struct option *options)
{
	for (; options->type != O_END; options++) {
		if (options->type != O_GROUP && options->short_name == *p->opt) {
			p->opt = p->opt[1] ? p->opt + 1 : NULL;
			return get_value(p, options, FL_SHORT);
		}
	}
	return -2;
}

static int parse_long_opt(struct parse_ctx *p, const char *arg, const struct option *options)
{
	const char *arg_end = strchr(arg, '=');
	const struct option *abbrev = NULL, *ambiguous = NULL;
	int abbrev_flags = 0, ambiguous_flags = 0;

	if (!arg_end)
		arg_end = arg + strlen(arg);
	for (; options->type != O_END; options++) {
		const char *rest;
		int flags = 0;

		if (!options->long_name || options->type == O_GROUP)
			continue;
		rest = skip_prefix(arg, options->long_name);
		if (!rest) {
			if (!strncmp(options->long_name, arg, arg_end - arg)) {
is_abbreviated:
				if (abbrev) {
					ambiguous = abbrev;
					ambiguous_flags = abbrev_flags;
				}
				if (!(flags & FL_UNSET) && *arg_end)
					p->opt = arg_end + 1;
				abbrev = options;
				abbrev_flags = flags;
				continue;
			}
			if (starts_with("no-", arg)) {
				flags |= FL_UNSET;
				goto is_abbreviated;
			}
			if (strncmp(arg, "no-", 3))
				continue;
			flags |= FL_UNSET;
			rest = skip_prefix(arg + 3, options->long_name);
			if (!rest && starts_with(options->long_name, arg + 3))
				goto is_abbreviated;
			if (!rest)
				continue;
		}
		if (*rest) {
			if (*rest != '=')
				continue;
			p->opt = rest + 1;
		}
		return get_value(p, options, flags);
	}
	if (ambiguous) {
		pr_err("Ambiguous option: %s (could be --%s%s or --%s%s)", arg,
		       (ambiguous_flags & FL_UNSET) ? "no-" : "", ambiguous->long_name,
		       (abbrev_flags & FL_UNSET) ? "no-" : "", abbrev->long_name);
		return -1;
	}
	if (abbrev)
		return get_value(p, abbrev, abbrev_flags);
	return -2;
}

static void check_typos(const char *arg, const struct option *options)
{
	if (strlen(arg) < 3)
		return;
	if (starts_with(arg, "no-")) {
		pr_err("did you mean `--%s` (with two dashes ?)", arg);
		exit(129);
	}
	for (; options->type != O_END; options++) {
		if (options->long_name && options->type != O_GROUP && starts_with(options->long_name, arg)) {
			pr_err("did you mean `--%s` (with two dashes ?)", arg);
			exit(129);
		}
	}
}

/*
 * Parses options until the first non-option; returns how many arguments are
 * left, moved to the front of argv. Errors print lkvm's messages and usage
 * and exit 129.
 */
static int parse_options(int argc, const char **argv, const struct option *options,
			 const char *const *usagestr, bool keep_dashdash)
{
	struct parse_ctx c = { argv, argc, NULL };
	const char *unknown_arg = NULL;
	char unknown_short = 0;
	int i;

	for (; c.argc; c.argc--, c.argv++) {
		const char *arg = c.argv[0];

		c.opt = NULL;
		if (*arg != '-' || !arg[1])
			break;
		if (arg[1] != '-') {
			c.opt = arg + 1;
			if (*c.opt == 'h')
				usage_with_options(usagestr, options);
			switch (parse_short_opt(&c, options)) {
			case -1:
				usage_with_options(usagestr, options);
			case -2:
				unknown_short = *c.opt;
				goto unknown;
			}
			if (c.opt)
				check_typos(arg + 1, options);
			while (c.opt) {
				if (*c.opt == 'h')
					usage_with_options(usagestr, options);
				switch (parse_short_opt(&c, options)) {
				case -1:
					usage_with_options(usagestr, options);
				case -2:
					unknown_short = *c.opt;
					goto unknown;
				}
			}
			continue;
		}
		if (!arg[2]) {		/* "--" */
			if (!keep_dashdash) {
				c.argc--;
				c.argv++;
			}
			break;
		}
		if (!strcmp(arg + 2, "help-all") || !strcmp(arg + 2, "help"))
			usage_with_options(usagestr, options);
		switch (parse_long_opt(&c, arg + 2, options)) {
		case -1:
			usage_with_options(usagestr, options);
		case -2:
			unknown_arg = arg + 2;
			goto unknown;
		}
	}
	for (i = 0; i < c.argc; i++)
		argv[i] = c.argv[i];
	argv[c.argc] = NULL;
	return c.argc;
unknown:
	if (unknown_arg)
		pr_err("unknown option `%s'", unknown_arg);
	else
		pr_err("unknown switch `%c'", unknown_short);
	usage_with_options(usagestr, options);
}

/* ------------------------------------------------------------------ */
/* instance directory and the IPC socket                               */

static char kvm_dir[PATH_MAX];

static void set_dir(void)
{
	char tmp[PATH_MAX];
	const char *home = getenv("HOME");

	snprintf(tmp, sizeof(tmp), "%s/.lkvm/", home ? home : "(null)");
	mkdir(tmp, 0777);
	if (!realpath(tmp, kvm_dir))
		return;
	strcat(kvm_dir, "/");
}

static void sock_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s%s", kvm_dir, name, ".sock");
}

static socklen_t fill_addr(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	/* silently truncated to sun_path, as lkvm does */
	size_t n = strlen(path);

	if (n > sizeof(addr->sun_path) - 1)
		n = sizeof(addr->sun_path) - 1;
	memcpy(addr->sun_path, path, n);
	return strlen(addr->sun_path) + sizeof(addr->sun_family);
}

enum {
	IPC_BALLOON = 1, IPC_DEBUG, IPC_STAT, IPC_PAUSE, IPC_RESUME, IPC_STOP, IPC_PID, IPC_VMSTATE,
};
#define IPC_MAX_MSGS 16
#define DEBUG_DUMP 1
#define DEBUG_NMI 2
#define DEBUG_SYSRQ 4

struct ipc_head {
	u32 type;
	u32 len;
};

struct debug_params {
	u32 dbg_type;
	u32 cpu;
	char sysrq;
};

struct balloon_stat {
	u16 tag;
	u64 val;
} __attribute__((packed));
#define BALLOON_S_NR 10

static int get_sock_by_instance(const char *name)
{
	char path[PATH_MAX];
	struct sockaddr_un addr;
	socklen_t len;
	int s;

	sock_path(path, sizeof(path), name);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	len = fill_addr(&addr, path);
	if (connect(s, (struct sockaddr *)&addr, len) < 0) {
		if (errno == ECONNREFUSED) {
			unlink(addr.sun_path);
			pr_info("Removed ghost socket file \"%s\".", path);
		}
		return -1;
	}
	return s;
}

static int ipc_send(int fd, u32 type, u32 len, const void *msg)
{
	struct ipc_head head = { type, len };

	if (write_all(fd, &head, sizeof(head)) < 0)
		return -1;
	if (len && write_all(fd, msg, len) < 0)
		return -1;
	return 0;
}

static int enumerate_instances(int (*cb)(const char *name, int fd))
{
	DIR *dir;
	struct dirent *e;
	int ret = 0;

	dir = opendir(kvm_dir);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		char name[NAME_MAX + 1], full[PATH_MAX];
		struct stat st;
		size_t n;
		int s;

		if (e->d_type != DT_SOCK) {
			if (e->d_type != DT_UNKNOWN)
				continue;
			snprintf(full, sizeof(full), "%s/%s", kvm_dir, e->d_name);
			if (stat(full, &st) || !S_ISSOCK(st.st_mode))
				continue;
		}
		n = strlen(e->d_name);
		if (n <= 5 || strcmp(e->d_name + n - 5, ".sock"))
			continue;
		memcpy(name, e->d_name, n - 5);
		name[n - 5] = 0;
		s = get_sock_by_instance(name);
		if (s < 0)
			continue;
		ret = cb(name, s);
		close(s);
		if (ret < 0)
			break;
	}
	closedir(dir);
	return ret;
}

/* ------------------------------------------------------------------ */
/* the client commands                                                 */

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

static int cmd_list(int argc, const char **argv)
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

static int cmd_balloon(int argc, const char **argv)
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

static int cmd_stat(int argc, const char **argv)
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

static int cmd_debug(int argc, const char **argv)
{
	return simple_instance_cmd(argc, argv, debug_options, debug_usage, do_debug);
}

static int cmd_help(void)
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

/* ------------------------------------------------------------------ */
/* run: configuration                                                  */

enum console_kind { CONSOLE_NONE, CONSOLE_8250, CONSOLE_VIRTIO, CONSOLE_HV };
enum guest_kind { GUEST_TEST, GUEST_LINUX, GUEST_SILENT };

struct disk {
	const char *filename;
	bool readonly;
	bool scsi;
};

static struct run_cfg {
	const char *guest_name, *kernel, *initrd, *params, *firmware, *flash;
	const char *console, *dev, *sandbox, *hugetlbfs;
	int nrcpus, debug_iodelay, vidmode;
	u64 ram_size, vsock_cid;
	bool balloon, vnc, gtk, sdl, rng, nodefaults, no_dhcp, single_step, ioport_debug, mmio_debug;
	struct disk disks[4];
	int nr_disks;
	int nr_9p;
	bool using_rootfs, custom_rootfs;
	int num_net;
	bool no_net, net_user;
	enum console_kind active_console;
	const char *real_cmdline;
} cfg;

/* the guest as chosen by the kernel file (and, for markers, its faults) */
static struct guest {
	enum guest_kind kind;
	bool bzimage;
	long crash_after_ms, poweroff_after_ms, socket_delay_ms, listen_delay_ms, handlers_delay_ms;
	long long flood;
	bool ignore_sigterm;
	int cpu_percent;
	const char *fail;
} guest = { .crash_after_ms = -1, .poweroff_after_ms = -1, .socket_delay_ms = 10, .cpu_percent = 10 };

static int term_fds[TERM_MAX_DEVS][2];
static bool term_assigned[TERM_MAX_DEVS];

static u64 parse_mem_option(const char *nptr, char **next)
{
	unsigned long long val;
	int shift = MB_SHIFT;

	errno = 0;
	val = strtoull(nptr, next, 10);
	if (errno == ERANGE)
		die("Memory too large: %s", nptr);
	if (*next == nptr)
		die("Invalid memory specifier: %s", nptr);
	switch (**next) {
	case 'B': case 'b': shift = 0; (*next)++; break;
	case 'K': case 'k': shift = 10; (*next)++; break;
	case 'M': case 'm': shift = 20; (*next)++; break;
	case 'G': case 'g': shift = 30; (*next)++; break;
	case 'T': case 't': shift = 40; (*next)++; break;
	case 'P': case 'p': shift = 50; (*next)++; break;
	}
	if ((val << shift) < val)
		die("Memory too large: %s", nptr);
	return val << shift;
}

static int mem_parser(const struct option *opt, const char *arg, int unset)
{
	char *next;

	(void)opt; (void)unset;
	cfg.ram_size = parse_mem_option(arg, &next);
	if (cfg.ram_size == 0)
		die("Invalid RAM size: %s", arg);
	if (*next != '\0')
		die("Invalid memory specifier: %s", arg);
	return 0;
}

static int loglevel_parser(const struct option *opt, const char *arg, int unset)
{
	(void)unset;
	if (!strcmp(opt->long_name, "debug") || !strcmp(arg, "debug"))
		loglevel = LOG_DEBUG;
	else if (!strcmp(arg, "info"))
		loglevel = LOG_INFO;
	else if (!strcmp(arg, "warning"))
		loglevel = LOG_WARNING;
	else if (!strcmp(arg, "error"))
		loglevel = LOG_ERROR;
	else
		die("Unknown loglevel: %s", arg);
	return 0;
}

static int register_9p(const char *dir)
{
	(void)dir;
	cfg.nr_9p++;
	return 0;
}

static int disk_parser(const struct option *opt, const char *arg, int unset)
{
	char path[PATH_MAX], *copy, *sep, *cur;
	struct stat st;

	(void)opt; (void)unset;
	snprintf(path, sizeof(path), "%s%s", kvm_dir, arg);
	if ((stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
		char tmp[PATH_MAX];

		if (cfg.using_rootfs)
			die("Please use only one rootfs directory atmost");
		if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (!realpath(arg, tmp) || register_9p(tmp) < 0)
				die("Unable to initialize virtio 9p");
		} else {
			register_9p(path);
			cfg.custom_rootfs = true;
		}
		cfg.using_rootfs = true;
		return 0;
	}
	if (cfg.nr_disks >= 4)
		die("Currently only 4 images are supported");
	copy = strdup(arg);
	cfg.disks[cfg.nr_disks].scsi = !strncmp(copy, "scsi:", 5);
	cur = copy;
	while ((sep = strchr(cur, ','))) {
		if (!strncmp(sep + 1, "ro", 2))
			cfg.disks[cfg.nr_disks].readonly = true;
		*sep = 0;
		cur = sep + 1;
	}
	cfg.disks[cfg.nr_disks].filename = copy;
	cfg.nr_disks++;
	return 0;
}

static int p9_parser(const struct option *opt, const char *arg, int unset)
{
	char tmp[PATH_MAX], *copy = strdup(arg), *tag = strchr(copy, ',');

	(void)opt; (void)unset;
	if (tag)
		*tag = 0;
	if (!realpath(copy, tmp))
		die("Failed resolving 9p path");
	register_9p(tmp);
	return 0;
}

static int tty_parser(const struct option *opt, const char *arg, int unset)
{
	struct termios t;
	int tty = atoi(arg), master, slave;
	char name[PATH_MAX];

	(void)opt; (void)unset;
	if (tcgetattr(STDIN_FILENO, &t) < 0)
		die("unable to save initial standard input settings");
	t.c_lflag &= ~(ICANON | ECHO | ISIG);
	if (openpty(&master, &slave, name, &t, NULL) < 0)
		return 0;
	close(slave);
	pr_info("Assigned terminal %d to pty %s\n", tty, name);
	if (tty >= 0 && tty < TERM_MAX_DEVS) {
		term_fds[tty][0] = term_fds[tty][1] = master;
		term_assigned[tty] = true;
	}
	return 0;
}

static int transport_parser(const struct option *opt, const char *arg, int unset)
{
	(void)unset;
	if (!strcmp(opt->long_name, "virtio-transport") && strcmp(arg, "pci") && strcmp(arg, "pci-legacy")) {
		pr_err("virtio-transport: unknown type \"%s\"\n", arg);
		return -1;
	}
	return 0;
}

static int netdev_parser(const struct option *opt, const char *arg, int unset)
{
	char *buf, *cur, *cmd = NULL;
	bool on_cmd = true, is_user = false;

	(void)opt; (void)unset;
	if (arg) {
		buf = strdup(arg);
		for (cur = strtok(buf, ",="); cur; cur = strtok(NULL, ",=")) {
			if (on_cmd) {
				cmd = cur;
			} else if (!strcmp(cmd, "mode")) {
				if (!strncmp(cur, "user", 4)) {
					if (cfg.net_user)
						die("Only one usermode network device allowed at a time");
					is_user = true;
				} else if (!strncmp(cur, "tap", 3)) {
					is_user = false;
				} else if (!strncmp(cur, "none", 4)) {
					cfg.no_net = true;
					free(buf);
					return 0;
				} else {
					/* lkvm prints its not yet set default network here */
					die("Unknown network mode (null), please use user, tap or none");
				}
			} else if (strcmp(cmd, "guest_mac") && strcmp(cmd, "script") && strcmp(cmd, "downscript") &&
				   strcmp(cmd, "guest_ip") && strcmp(cmd, "host_ip") && strcmp(cmd, "trans") &&
				   strcmp(cmd, "tapif") && strcmp(cmd, "vhost") && strcmp(cmd, "fd") && strcmp(cmd, "mq")) {
				die("Unknown network parameter %s", cmd);
			}
			on_cmd = !on_cmd;
		}
		free(buf);
	}
	if (is_user)
		cfg.net_user = true;
	cfg.num_net++;
	return 0;
}

static int vfio_parser(const struct option *opt, const char *arg, int unset)
{
	(void)opt; (void)arg; (void)unset;
	return 0;
}

static const char *const run_usage[] = { "lkvm run [<options>] [<kernel image>]", NULL };
static const struct option run_options[] = {
	OPT_GROUP("Basic options:"),
	OPT_STRING('\0', "name", &cfg.guest_name, "guest name", "A name for the guest"),
	OPT_INT('c', "cpus", &cfg.nrcpus, "Number of CPUs"),
	OPT_CALLBACK('m', "mem", NULL, "size[BKMGTP]",
		     "Virtual machine memory size, by default measured in in megabytes (M)", mem_parser),
	OPT_CALLBACK('d', "disk", NULL, "image or rootfs_dir", "Disk  image or rootfs directory", disk_parser),
	OPT_BOOL('\0', "balloon", &cfg.balloon, "Enable virtio balloon"),
	OPT_BOOL('\0', "vnc", &cfg.vnc, "Enable VNC framebuffer"),
	OPT_BOOL('\0', "gtk", &cfg.gtk, "Enable GTK framebuffer"),
	OPT_BOOL('\0', "sdl", &cfg.sdl, "Enable SDL framebuffer"),
	OPT_BOOL('\0', "rng", &cfg.rng, "Enable virtio Random Number Generator"),
	OPT_BOOL('\0', "nodefaults", &cfg.nodefaults, "Disable implicit configuration that cannot be disabled otherwise"),
	OPT_CALLBACK('\0', "9p", NULL, "dir_to_share,tag_name",
		     "Enable virtio 9p to share files between host and guest", p9_parser),
	OPT_STRING('\0', "console", &cfg.console, "serial, virtio or hv", "Console to use"),
	OPT_U64('\0', "vsock", &cfg.vsock_cid, "Guest virtio socket CID"),
	OPT_STRING('\0', "dev", &cfg.dev, "device_file", "KVM device file"),
	OPT_CALLBACK('\0', "tty", NULL, "tty id", "Remap guest TTY into a pty on the host", tty_parser),
	OPT_STRING('\0', "sandbox", &cfg.sandbox, "script", "Run this script when booting into custom rootfs"),
	OPT_STRING('\0', "hugetlbfs", &cfg.hugetlbfs, "path", "Hugetlbfs path"),
	OPT_CALLBACK_NOARG('\0', "virtio-legacy", NULL,
			   "Use legacy virtio transport (Deprecated: Use --virtio-transport option instead)",
			   transport_parser),
	OPT_CALLBACK('\0', "virtio-transport", NULL, "[pci|pci-legacy]", "Type of virtio transport", transport_parser),
	OPT_CALLBACK('\0', "loglevel", NULL, "[error|warning|info|debug]", "Set the verbosity level", loglevel_parser),
	OPT_GROUP("Kernel options:"),
	OPT_STRING('k', "kernel", &cfg.kernel, "kernel", "Kernel to boot in virtual machine"),
	OPT_STRING('i', "initrd", &cfg.initrd, "initrd", "Initial RAM disk image"),
	OPT_STRING('p', "params", &cfg.params, "params", "Kernel command line arguments"),
	OPT_STRING('f', "firmware", &cfg.firmware, "firmware", "Firmware image to boot in virtual machine"),
	OPT_STRING('F', "flash", &cfg.flash, "flash", "Flash image to present to virtual machine"),
	OPT_GROUP("Networking options:"),
	OPT_CALLBACK_DEFAULT('n', "network", NULL, "network params",
			     "Create a new guest NIC. Pass mode=none to disable all network devices", netdev_parser),
	OPT_BOOL('\0', "no-dhcp", &cfg.no_dhcp, "Disable kernel DHCP in rootfs mode"),
	OPT_GROUP("VFIO options:"),
	OPT_CALLBACK('\0', "vfio-pci", NULL, "[domain:]bus:dev.fn", "Assign a PCI device to the virtual machine",
		     vfio_parser),
	OPT_GROUP("Debug options:"),
	OPT_CALLBACK_NOARG('\0', "debug", NULL, "Enable debug messages (deprecated, use --loglevel=debug instead)",
			   loglevel_parser),
	OPT_BOOL('\0', "debug-single-step", &cfg.single_step, "Enable single stepping"),
	OPT_BOOL('\0', "debug-ioport", &cfg.ioport_debug, "Enable ioport debugging"),
	OPT_BOOL('\0', "debug-mmio", &cfg.mmio_debug, "Enable MMIO debugging"),
	OPT_INT('\0', "debug-iodelay", &cfg.debug_iodelay, "Delay IO by millisecond"),
	OPT_GROUP("Arch-specific options:"),
	OPT_GROUP("BIOS options:"),
	OPT_INT('\0', "vidmode", &cfg.vidmode, "Video mode"),
	OPT_END()
};

/* ------------------------------------------------------------------ */
/* run: the machine                                                    */

struct vcpu {
	pthread_t thread;
	int id;
	volatile sig_atomic_t is_running;
	volatile sig_atomic_t paused;
	volatile sig_atomic_t needs_nmi;
};

#define SIGKVMEXIT (SIGRTMIN + 0)
#define SIGKVMPAUSE (SIGRTMIN + 1)

static int nrcpus;
static struct vcpu **cpus;
static __thread struct vcpu *current_cpu;
static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;
static int pause_event = -1;
static int vm_state;	/* 0 running, 1 paused: the VMSTATE reply */
static int is_paused;
static u64 start_ns;

static unsigned char *ram;
static u64 ram_size;
static int wake_fd = -1;	/* wakes vCPU 0 when console input arrives */

/* the four 8250 UARTs, as far as a guest and the host terminal see them */
struct serial {
	pthread_mutex_t mutex;
	int rxcnt, rxdone;
	unsigned char rxbuf[FIFO_LEN];
	volatile u8 lsr;
} devs[TERM_MAX_DEVS];
static volatile int sysrq_pending;

static void kvm_reboot(void)
{
	if (!cpus || !cpus[0] || !cpus[0]->thread)
		return;
	pthread_kill(cpus[0]->thread, SIGKVMEXIT);
}

static void notify_paused(void)
{
	u64 one = 1;

	if (write(pause_event, &one, sizeof(one)) < 0)
		die("Failed notifying of paused VCPU.");
	pthread_mutex_lock(&pause_lock);
	current_cpu->paused = 0;
	pthread_mutex_unlock(&pause_lock);
}

static void vcpu_signal_handler(int sig)
{
	if (sig == SIGKVMEXIT) {
		if (current_cpu && current_cpu->is_running)
			current_cpu->is_running = 0;
	} else if (sig == SIGKVMPAUSE) {
		if (current_cpu->paused)
			die("Pause signaled for already paused CPU\n");
		current_cpu->paused = 1;
		notify_paused();	/* blocks until the IPC thread resumes us */
	}
}

static void kvm_pause(void)
{
	int i, paused_vcpus = 0;

	pthread_mutex_lock(&pause_lock);
	if (!cpus || !cpus[0] || !cpus[0]->thread)
		return;
	pause_event = eventfd(0, 0);
	if (pause_event < 0)
		die("Failed creating pause notification event");
	for (i = 0; i < nrcpus; i++) {
		if (cpus[i]->is_running && cpus[i]->paused == 0)
			pthread_kill(cpus[i]->thread, SIGKVMPAUSE);
		else
			paused_vcpus++;
	}
	while (paused_vcpus < nrcpus) {
		u64 n;

		if (read(pause_event, &n, sizeof(n)) < 0) {
			if (errno == EINTR)
				continue;
			die("Failed reading pause event");
		}
		paused_vcpus += n;
	}
	close(pause_event);
}

static void kvm_continue(void)
{
	pthread_mutex_unlock(&pause_lock);
}

/* ---- console: term.c's behaviour ---- */

static struct termios orig_term;
static bool term_raw;
static pthread_t term_poll_thread;

static int term_getc(int term)
{
	static bool got_escape;
	unsigned char c;

	if (read_all(term_fds[term][0], &c, 1) < 0)
		return -1;
	if (got_escape) {
		got_escape = false;
		if (c == 'x')
			kvm_reboot();
		if (c == 0x01)
			return c;
	}
	if (c == 0x01) {	/* ctrl-a: lkvm's escape character */
		got_escape = true;
		return -1;
	}
	return c;
}

static bool term_readable(int term)
{
	struct pollfd p = { term_fds[term][0], POLLIN, 0 };

	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

static void term_putc(int term, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(term_fds[term][1], p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += n;
		len -= n;
	}
}

/* True if a byte (or a SysRq break) arrived for the guest. */
static bool serial_receive(struct serial *dev, int id)
{
	if ((dev->lsr & LSR_DR) || dev->rxcnt)
		return false;
	if (id == 0 && sysrq_pending) {
		dev->lsr |= LSR_DR | LSR_BI;
		dev->rxbuf[dev->rxcnt++] = sysrq_pending;
		sysrq_pending = 0;
		return true;
	}
	if (cfg.active_console != CONSOLE_8250)
		return false;
	while (term_readable(id) && dev->rxcnt < FIFO_LEN) {
		int c = term_getc(id);

		if (c < 0)
			break;
		dev->rxbuf[dev->rxcnt++] = c;
		dev->lsr |= LSR_DR;
	}
	return dev->rxcnt > 0;
}

/* Linux-like guests on a virtio or hv console read the terminal directly */
static unsigned char vcons_buf[4096];
static int vcons_len;

static void update_consoles(void)
{
	int i;
	u64 one = 1;

	bool arrived = false;

	for (i = 0; i < TERM_MAX_DEVS; i++) {
		pthread_mutex_lock(&devs[i].mutex);
		arrived |= serial_receive(&devs[i], i);
		pthread_mutex_unlock(&devs[i].mutex);
	}
	if (guest.kind == GUEST_LINUX && cfg.active_console != CONSOLE_8250) {
		pthread_mutex_lock(&devs[0].mutex);
		while (term_readable(0) && vcons_len < (int)sizeof(vcons_buf)) {
			int c = term_getc(0);

			if (c < 0)
				break;
			vcons_buf[vcons_len++] = c;
			arrived = true;
		}
		pthread_mutex_unlock(&devs[0].mutex);
	}
	/*
	 * Only news wakes the vCPU, as kvmtool raises the UART's interrupt only on a change: a hung-up pty
	 * (poll always returning) then spins this thread alone, one CPU, as measured on the real lkvm.
	 */
	if (arrived && write(wake_fd, &one, sizeof(one)) < 0) {
		/* nothing to do: the vCPU polls anyway */
	}
}

static void *term_poll_loop(void *arg)
{
	struct pollfd fds[TERM_MAX_DEVS];
	int i;

	(void)arg;
	set_thread_name("term-poll");
	for (i = 0; i < TERM_MAX_DEVS; i++) {
		fds[i].fd = term_fds[i][0];
		fds[i].events = POLLIN;
		fds[i].revents = 0;
	}
	for (;;) {
		if (poll(fds, TERM_MAX_DEVS, -1) < 1) {
			if (errno == EINTR)
				continue;
			break;
		}
		update_consoles();
	}
	die("term_poll_thread_loop: error polling device fds %d\n", errno);
	return NULL;
}

static void term_cleanup(void)
{
	int i;

	if (!term_raw)
		return;
	for (i = 0; i < TERM_MAX_DEVS; i++)
		tcsetattr(term_fds[i][0], TCSANOW, &orig_term);
}

static void term_sig_cleanup(int sig)
{
	term_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void term_init(void)
{
	struct termios t;
	int i;

	for (i = 0; i < TERM_MAX_DEVS; i++)
		if (!term_assigned[i]) {
			term_fds[i][0] = STDIN_FILENO;
			term_fds[i][1] = STDOUT_FILENO;
		}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return;
	if (tcgetattr(STDIN_FILENO, &orig_term) < 0) {
		pr_warning("unable to save initial standard input settings");
		return;
	}
	t = orig_term;
	t.c_iflag &= ~ICRNL;
	t.c_lflag &= ~(ICANON | ECHO | ISIG);
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
	term_raw = true;
	if (pthread_create(&term_poll_thread, NULL, term_poll_loop, NULL))
		die("Unable to create console input poll thread\n");
	signal(SIGTERM, term_sig_cleanup);
	atexit(term_cleanup);
}

/* ---- the guest's view of COM1 ---- */

/* a read of RBR when LSR.DR is set; a break reads as 0 first */
static int serial_getc(void)
{
	struct serial *dev = &devs[0];
	int c = -1;

	if (!(dev->lsr & LSR_DR))
		return -1;
	pthread_mutex_lock(&dev->mutex);
	if (dev->rxdone != dev->rxcnt) {
		if (dev->lsr & LSR_BI) {
			dev->lsr &= ~LSR_BI;
			c = 0x100;	/* break */
		} else {
			c = dev->rxbuf[dev->rxdone++];
			if (dev->rxcnt == dev->rxdone) {
				dev->lsr &= ~LSR_DR;
				dev->rxcnt = dev->rxdone = 0;
			}
		}
	}
	pthread_mutex_unlock(&dev->mutex);
	return c;
}

static void guest_write(const void *buf, size_t len)
{
	pthread_mutex_lock(&devs[0].mutex);
	term_putc(0, buf, len);
	pthread_mutex_unlock(&devs[0].mutex);
}

static void guest_puts(const char *s)
{
	guest_write(s, strlen(s));
}

/*
 * A running vCPU between two events: spin for a share of each 10 ms period
 * (real CPU time, as a polling guest burns), sleep for the rest unless input
 * arrives. Signals (pause, exit) interrupt both.
 */
static void vcpu_idle(struct vcpu *cpu, bool wake_on_input)
{
	const u64 period = 10000000ull;
	u64 start = now_ns(), busy = period * guest.cpu_percent / 100;
	struct pollfd p = { wake_fd, POLLIN, 0 };
	struct timespec ts;

	while (cpu->is_running && now_ns() - start < busy)
		if (wake_on_input && (devs[0].lsr & LSR_DR))
			return;
	if (!cpu->is_running || busy >= period)
		return;
	ts.tv_sec = 0;
	ts.tv_nsec = period - busy;
	if (wake_on_input && !(devs[0].lsr & LSR_DR) && ppoll(&p, 1, &ts, NULL) > 0) {
		u64 n;

		if (read(wake_fd, &n, sizeof(n)) < 0) {
			/* raced with another reader: fine */
		}
	} else if (!wake_on_input) {
		nanosleep(&ts, NULL);
	}
}

static void touch_ram_above_1m(void)
{
	u64 a;

	/* the test guest writes each page's address into it (E820 RAM >= 1 MiB) */
	for (a = 0x100000; a + 4096 <= ram_size && a < 0xe0000000ull; a += 4096)
		*(u32 *)(ram + a) = (u32)a;
}

static void flood(long long n)
{
	static const char line[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n";
	char buf[64];
	long long off = 0;

	while (off < n && current_cpu->is_running) {
		size_t i, len = n - off < (long long)sizeof(buf) ? (size_t)(n - off) : sizeof(buf);

		for (i = 0; i < len; i++)
			buf[i] = line[(off + i) % (sizeof(line) - 1)];
		guest_write(buf, len);
		off += len;
	}
}

/* SIGSEGV after the delay, from a kernel timer: no extra thread */
static void arm_crash_timer(long ms)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGSEGV };
	struct itimerspec its = { .it_value = { ms / 1000, (ms % 1000) * 1000000L } };
	timer_t timer;

	if (ms == 0)
		its.it_value.tv_nsec = 1;
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0)
		timer_settime(timer, 0, &its, NULL);
}

static bool poweroff_due(void)
{
	return guest.poweroff_after_ms >= 0 && (now_ns() - start_ns) / 1000000 >= (u64)guest.poweroff_after_ms;
}

/* "[    1.234567] " as Linux stamps its console messages */
static void linux_printk(const char *msg)
{
	char buf[256];
	u64 t = now_ns() - start_ns;

	snprintf(buf, sizeof(buf), "[%5llu.%06llu] %s\r\n", (unsigned long long)(t / 1000000000ull),
		 (unsigned long long)(t / 1000 % 1000000), msg);
	guest_puts(buf);
}

static volatile bool linux_halted;
static u64 balloon_num_pages, balloon_actual;
static pthread_mutex_t balloon_lock = PTHREAD_MUTEX_INITIALIZER;

static bool linux_sysrq(int c)
{
	switch (c) {
	case 's':
		linux_printk("sysrq: Emergency Sync");
		linux_printk("Emergency Sync complete");
		break;
	case 'u':
		linux_printk("sysrq: Emergency Remount R/O");
		linux_printk("Emergency Remount complete");
		break;
	case 'b':
		linux_printk("sysrq: Resetting");
		return true;
	case 'o':
		/* no ACPI and reboot=k under kvmtool: the kernel halts, lkvm runs on */
		linux_printk("sysrq: Power Off");
		linux_printk("reboot: Power down");
		linux_halted = true;
		break;
	case 'p':
		linux_printk("sysrq: Show Regs");
		break;
	default:
		linux_printk("sysrq: HELP : loglevel(0-9) reboot(b) crash(c) terminate-all-tasks(e) "
			     "memory-full-oom-kill(f) kill-all-tasks(i) thaw-filesystems(j) sak(k) "
			     "show-backtrace-all-active-cpus(l) show-memory-usage(m) nice-all-RT-tasks(n) "
			     "poweroff(o) show-registers(p) show-all-timers(q) unraw(r) sync(s) "
			     "show-task-states(t) unmount(u) show-blocked-tasks(w) dump-ftrace-buffer(z)");
		break;
	}
	return false;
}

static void guest_test(struct vcpu *cpu)
{
	guest_puts("GUEST READY\r\n");
	if (guest.flood > 0)
		flood(guest.flood);
	touch_ram_above_1m();
	while (cpu->is_running) {
		int c = serial_getc();

		if (poweroff_due())
			break;
		if (c < 0) {
			vcpu_idle(cpu, true);
			continue;
		}
		if (c == 'q') {
			guest_puts("GUEST POWEROFF\r\n");
			break;
		}
		if (c == 0x100)
			c = 0;
		guest_write(&c, 1);
	}
	/* i8042 reset (or the requested stop): lkvm ends */
	cpu->is_running = 0;
}

static void guest_linux(struct vcpu *cpu)
{
	char line[2400];
	bool sysrq_next = false;
	u64 a;

	snprintf(line, sizeof(line), "Command line: %s", cfg.real_cmdline ? cfg.real_cmdline : "");
	linux_printk("Linux version 6.1.0-kvmtool-standin");
	linux_printk(line);
	/* a booted kernel has used its memory */
	for (a = 0; a + 4096 <= ram_size; a += 4096)
		ram[a] = 1;
	guest_puts("STANDIN LINUX READY\r\n");
	if (guest.flood > 0)
		flood(guest.flood);
	while (cpu->is_running) {
		/* ttyS0 always exists: a break (SysRq) arrives there whatever the console */
		int c = serial_getc();

		if (poweroff_due())
			break;
		if (c < 0 && cfg.active_console != CONSOLE_8250) {
			pthread_mutex_lock(&devs[0].mutex);
			if (vcons_len) {
				c = vcons_buf[0];
				memmove(vcons_buf, vcons_buf + 1, --vcons_len);
			}
			pthread_mutex_unlock(&devs[0].mutex);
		}
		if (c == 0x100) {
			sysrq_next = true;
			continue;
		}
		if (c >= 0 && sysrq_next) {
			sysrq_next = false;
			if (linux_sysrq(c))
				break;
			continue;
		}
		if (linux_halted) {
			/* halted: the vCPU sleeps in hlt */
			sleep_ms(50);
			continue;
		}
		if (c < 0) {
			vcpu_idle(cpu, true);
			continue;
		}
		guest_write(&c, 1);
	}
	cpu->is_running = 0;
}

static void guest_silent(struct vcpu *cpu)
{
	while (cpu->is_running && !poweroff_due())
		vcpu_idle(cpu, false);
	cpu->is_running = 0;
}

static void *vcpu_thread(void *arg)
{
	char name[16];
	struct vcpu *cpu = arg;

	current_cpu = cpu;
	snprintf(name, sizeof(name), "kvm-vcpu-%d", cpu->id);
	set_thread_name(name);
	if (cpu->id == 0) {
		switch (guest.kind) {
		case GUEST_TEST:
			guest_test(cpu);
			break;
		case GUEST_LINUX:
			guest_linux(cpu);
			break;
		case GUEST_SILENT:
			guest_silent(cpu);
			break;
		}
	} else {
		/* application processors: waiting for a SIPI (test guest) or idle */
		while (cpu->is_running) {
			if (guest.kind == GUEST_LINUX && !linux_halted)
				vcpu_idle(cpu, false);
			else
				pause();
		}
	}
	return NULL;
}

/* ---- the debug dump, in lkvm's format ---- */

static volatile sig_atomic_t printout_done;
static int debug_fd = -1;

static void handle_sigusr1(int sig)
{
	struct vcpu *cpu = current_cpu;
	int fd = debug_fd;
	bool bsp;

	(void)sig;
	if (!cpu || cpu->needs_nmi)
		return;
	bsp = cpu->id == 0;
	dprintf(fd, "\n #\n # vCPU #%d's dump:\n #\n", cpu->id);
	dprintf(fd, "\n Registers:\n ----------\n");
	dprintf(fd, " rip: %016llx   rsp: %016llx flags: %016llx\n", bsp ? 0x14ull : 0ull, 0x8000ull,
		bsp ? 0x46ull : 0x2ull);
	dprintf(fd, " rax: %016llx   rbx: %016llx   rcx: %016llx\n", 0ull, 0ull, 0ull);
	dprintf(fd, " rdx: %016llx   rsi: %016llx   rdi: %016llx\n", bsp ? 0x3fdull : 0ull, 0ull, 0ull);
	dprintf(fd, " rbp: %016llx    r8: %016llx    r9: %016llx\n", 0x8000ull, 0ull, 0ull);
	dprintf(fd, " r10: %016llx   r11: %016llx   r12: %016llx\n", 0ull, 0ull, 0ull);
	dprintf(fd, " r13: %016llx   r14: %016llx   r15: %016llx\n", 0ull, 0ull, 0ull);
	dprintf(fd, " cr0: %016llx   cr2: %016llx   cr3: %016llx\n", 0x60000010ull, 0ull, 0ull);
	dprintf(fd, " cr4: %016llx   cr8: %016llx\n", 0ull, 0ull);
	dprintf(fd, "\n Segment registers:\n ------------------\n");
	dprintf(fd, " register  selector  base              limit     type  p dpl db s l g avl\n");
	dprintf(fd, " cs        1000      0000000000010000  0000ffff  0b    1 0   0  1 0 0 0\n");
	dprintf(fd, " ss        1000      0000000000010000  0000ffff  03    1 0   0  1 0 0 0\n");
	dprintf(fd, " ds        1000      0000000000010000  0000ffff  03    1 0   0  1 0 0 0\n");
	dprintf(fd, " es        1000      0000000000010000  0000ffff  03    1 0   0  1 0 0 0\n");
	dprintf(fd, " fs        1000      0000000000010000  0000ffff  03    1 0   0  1 0 0 0\n");
	dprintf(fd, " gs        1000      0000000000010000  0000ffff  03    1 0   0  1 0 0 0\n");
	dprintf(fd, " tr        0000      0000000000000000  0000ffff  0b    1 0   0  0 0 0 0\n");
	dprintf(fd, " ldt       0000      0000000000000000  0000ffff  02    1 0   0  0 0 0 0\n");
	dprintf(fd, " gdt                 0000000000000000  0000ffff\n");
	dprintf(fd, " idt                 0000000000000000  0000ffff\n");
	dprintf(fd, "\n APIC:\n -----\n");
	dprintf(fd, " efer: %016llx  apic base: %016llx  nmi: enabled\n", 0ull, bsp ? 0xfee00900ull : 0xfee00800ull);
	dprintf(fd, "\n Interrupt bitmap:\n -----------------\n");
	dprintf(fd, " 0000000000000000 0000000000000000 0000000000000000 0000000000000000\n");
	dprintf(fd, "\n Code:\n -----\n rip: [<%016llx>] <unknown>\n\n", bsp ? 0x14ull : 0ull);
	dprintf(fd, "\n Stack:\n ------\n rsp: [<%016llx>] \n", 0x8000ull);
	dprintf(fd, " 0x00008000: 00 00 00 00  00 00 00 00\n 0x00008008: 00 00 00 00  00 00 00 00\n");
	dprintf(fd, " 0x00008010: 00 00 00 00  00 00 00 00\n 0x00008018: 00 00 00 00  00 00 00 00\n");
	dprintf(fd, "\n Page Tables:\n ------\n Not in protected mode\n");
	printout_done = 1;
}

/* ---- the IPC server: one epoll thread, as lkvm's kvm-ipc ---- */

typedef void (*ipc_handler)(int fd, u32 type, u32 len, u8 *msg);
static ipc_handler handlers[IPC_MAX_MSGS];
static int server_fd = -1;
static char server_path[PATH_MAX];

struct epoll_thread {
	int fd, stop_fd;
	const char *name;
	pthread_t thread;
	void (*handle)(struct epoll_event *ev);
};
static struct epoll_thread ipc_epoll, ioeventfd_epoll;

static void *epoll_thread_loop(void *arg)
{
	struct epoll_thread *e = arg;
	struct epoll_event events[20];
	u64 stop;
	int n, i;

	set_thread_name(e->name);
	for (;;) {
		n = epoll_wait(e->fd, events, 20, -1);
		for (i = 0; i < n; i++) {
			if (events[i].data.fd == e->stop_fd)
				goto done;
			if (e->handle)
				e->handle(&events[i]);
		}
	}
done:
	if (read(e->stop_fd, &stop, sizeof(stop)) < 0 || write(e->stop_fd, &stop, sizeof(stop)) < 0)
		pr_warning("%s: stop failed with %d", __func__, errno);
	return NULL;
}

static int epoll_thread_init(struct epoll_thread *e, const char *name, void (*handle)(struct epoll_event *))
{
	struct epoll_event ev = { .events = EPOLLIN };

	e->name = name;
	e->handle = handle;
	e->fd = epoll_create(20);
	if (e->fd < 0)
		return -errno;
	e->stop_fd = eventfd(0, 0);
	ev.data.fd = e->stop_fd;
	if (epoll_ctl(e->fd, EPOLL_CTL_ADD, e->stop_fd, &ev) < 0)
		return -errno;
	return pthread_create(&e->thread, NULL, epoll_thread_loop, e) ? -1 : 0;
}

static void epoll_thread_exit(struct epoll_thread *e)
{
	u64 stop = 1;

	/* like lkvm: signal and go on (the thread may be blocked on a client) */
	if (write(e->stop_fd, &stop, sizeof(stop)) < 0)
		return;
	if (read(e->stop_fd, &stop, sizeof(stop)) < 0)
		return;
	close(e->stop_fd);
	close(e->fd);
}

static int ipc_receive(int fd)
{
	struct ipc_head head;
	u8 *msg;
	u32 n;

	/* one read() for the header, as lkvm does */
	n = read(fd, &head, sizeof(head));
	if (n != sizeof(head))
		return -1;
	msg = malloc(head.len ? head.len : 1);
	if (!msg)
		return -1;
	n = read_all(fd, msg, head.len);
	if (n != head.len) {
		free(msg);
		return -1;
	}
	if (head.type < IPC_MAX_MSGS) {
		if (handlers[head.type])
			handlers[head.type](fd, head.type, head.len, msg);
		else
			pr_warning("No device handles type %u\n", head.type);
	}
	/* lkvm does not free the message here either */
	return 0;
}

static void ipc_handle_event(struct epoll_event *ev)
{
	int fd = ev->data.fd;

	if (fd == server_fd) {
		struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP };
		int client = accept(fd, NULL, NULL);

		if (client < 0)
			return;
		cev.data.fd = client;
		if (epoll_ctl(ipc_epoll.fd, EPOLL_CTL_ADD, client, &cev) < 0) {
			close(client);
			return;
		}
		/* every request of this connection, until the peer closes */
		while (ipc_receive(client) == 0)
			;
	} else if (ev->events & (EPOLLERR | EPOLLRDHUP | EPOLLHUP)) {
		epoll_ctl(ipc_epoll.fd, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
	} else {
		ipc_receive(fd);
	}
}

#define WARN_ON(cond, func, line) ({ \
	int __w = !!(cond); \
	if (__w) \
		pr_warning("(%s) %s:%d: failed condition: %s", "kvm-ipc.c", func, line, #cond); \
	__w; })

static void handle_pid(int fd, u32 type, u32 len, u8 *msg)
{
	pid_t pid = getpid();

	(void)type; (void)len; (void)msg;
	if (write(fd, &pid, sizeof(pid)) < 0)
		pr_warning("Failed sending PID");
}

static void handle_vmstate(int fd, u32 type, u32 len, u8 *msg)
{
	(void)type; (void)len; (void)msg;
	if (write(fd, &vm_state, sizeof(vm_state)) < 0)
		pr_warning("Failed sending VMSTATE");
}

static void handle_stop(int fd, u32 type, u32 len, u8 *msg)
{
	(void)fd; (void)msg;
	if (WARN_ON(type != IPC_STOP || len, "handle_stop", 408))
		return;
	kvm_reboot();
}

static void handle_pause(int fd, u32 type, u32 len, u8 *msg)
{
	(void)fd; (void)msg;
	if (WARN_ON(len, "handle_pause", 419))
		return;
	if (type == IPC_RESUME && is_paused) {
		vm_state = 0;
		kvm_continue();
	} else if (type == IPC_PAUSE && !is_paused) {
		vm_state = 1;
		kvm_pause();
	} else {
		return;
	}
	is_paused = !is_paused;
}

static void handle_debug(int fd, u32 type, u32 len, u8 *msg)
{
	struct debug_params *p = (void *)msg;
	int i;

	if (WARN_ON(type != IPC_DEBUG || len != sizeof(*p), "handle_debug", 487))
		return;
	if (p->dbg_type & DEBUG_SYSRQ)
		sysrq_pending = p->sysrq;
	if (p->dbg_type & DEBUG_NMI) {
		if ((int)p->cpu >= nrcpus)
			return;
		cpus[p->cpu]->needs_nmi = 1;
		if (guest.kind == GUEST_LINUX) {
			/* what Linux prints for an NMI nobody claims */
			char m[96];

			snprintf(m, sizeof(m), "Uhhuh. NMI received for unknown reason 00 on CPU %u.", p->cpu);
			linux_printk(m);
			linux_printk("Dazed and confused, but trying to continue");
		}
		cpus[p->cpu]->needs_nmi = 0;
	}
	if (!(p->dbg_type & DEBUG_DUMP))
		return;
	for (i = 0; i < nrcpus; i++) {
		if (!cpus[i])
			continue;
		printout_done = 0;
		debug_fd = fd;
		pthread_kill(cpus[i]->thread, SIGUSR1);
		while (!printout_done)
			sched_yield();
	}
	close(fd);
	sysrq_pending = 'p';
}

/* ---- the balloon ---- */

static bool guest_has_virtio_drivers(void)
{
	return guest.kind == GUEST_LINUX;
}

static void handle_balloon(int fd, u32 type, u32 len, u8 *msg)
{
	int mem;
	u64 target, i;

	(void)fd;
	if (WARN_ON(type != IPC_BALLOON || len != sizeof(int), "handle_mem", 168))
		return;
	mem = *(int *)msg;
	pthread_mutex_lock(&balloon_lock);
	if (mem < 0 && balloon_num_pages < (u64)(256 * (-mem))) {
		pthread_mutex_unlock(&balloon_lock);
		return;
	}
	balloon_num_pages += 256 * (long long)mem;
	target = balloon_num_pages;
	if (guest_has_virtio_drivers()) {
		/* the guest's driver hands pages over (released) or takes them back (used again) */
		u64 top = ram_size / 4096;

		if (target > top - 256)
			target = top - 256;
		if (target > balloon_actual)
			madvise(ram + (top - target) * 4096, (target - balloon_actual) * 4096, MADV_DONTNEED);
		for (i = top - balloon_actual; i < top - target; i++)
			ram[i * 4096] = 1;
		balloon_actual = target;
	}
	pthread_mutex_unlock(&balloon_lock);
}

static void handle_stat(int fd, u32 type, u32 len, u8 *msg)
{
	struct balloon_stat stats[BALLOON_S_NR];
	u64 total = ram_size - balloon_actual * 4096;
	int i;

	(void)msg;
	if (WARN_ON(type != IPC_STAT || len, "virtio_bln__print_stats", 152))
		return;
	/* without a driver the stats queue is not set up: no answer at all */
	if (!guest_has_virtio_drivers())
		return;
	for (i = 0; i < BALLOON_S_NR; i++)
		stats[i].tag = i;
	stats[0].val = 0;
	stats[1].val = 0;
	stats[2].val = 12;
	stats[3].val = 34567;
	stats[4].val = total / 2;
	stats[5].val = total;
	stats[6].val = total * 3 / 4;
	stats[7].val = total / 8;
	stats[8].val = 0;
	stats[9].val = 0;
	if (write(fd, stats, sizeof(stats)) < 0)
		pr_warning("Failed sending memory stats");
}

static int create_socket(void)
{
	struct sockaddr_un addr;
	socklen_t len;
	int s, r;

	sock_path(server_path, sizeof(server_path), cfg.guest_name);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0) {
		perror("socket");
		return s;
	}
	len = fill_addr(&addr, server_path);
	r = bind(s, (struct sockaddr *)&addr, len);
	if (r < 0 && errno == EADDRINUSE) {
		r = connect(s, (struct sockaddr *)&addr, len);
		if (r == 0) {
			pr_err("Guest socket file %s already exists.", server_path);
			r = -EEXIST;
			goto fail;
		}
		if (errno == ECONNREFUSED) {
			unlink(server_path);
			pr_info("Removed ghost socket file \"%s\".", server_path);
			r = bind(s, (struct sockaddr *)&addr, len);
		}
	}
	if (r < 0) {
		perror("bind");
		goto fail;
	}
	if (guest.listen_delay_ms > 0)
		sleep_ms(guest.listen_delay_ms);
	r = listen(s, 5);
	if (r < 0) {
		perror("listen");
		goto fail;
	}
	return s;
fail:
	close(s);
	return r;
}

static int ipc_init(void)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

	if (guest.socket_delay_ms > 0)
		sleep_ms(guest.socket_delay_ms);
	server_fd = create_socket();
	if (epoll_thread_init(&ipc_epoll, "kvm-ipc", ipc_handle_event)) {
		pr_err("Failed starting IPC thread");
		return -1;
	}
	ev.data.fd = server_fd;
	if (epoll_ctl(ipc_epoll.fd, EPOLL_CTL_ADD, server_fd, &ev) < 0) {
		pr_err("Failed adding socket to epoll");
		epoll_thread_exit(&ipc_epoll);
		if (server_fd >= 0)
			close(server_fd);
		return -EFAULT;
	}
	if (guest.handlers_delay_ms > 0)
		sleep_ms(guest.handlers_delay_ms);
	handlers[IPC_PID] = handle_pid;
	handlers[IPC_DEBUG] = handle_debug;
	handlers[IPC_PAUSE] = handle_pause;
	handlers[IPC_RESUME] = handle_pause;
	handlers[IPC_STOP] = handle_stop;
	handlers[IPC_VMSTATE] = handle_vmstate;
	signal(SIGUSR1, handle_sigusr1);
	return 0;
}

static void ipc_exit(void)
{
	epoll_thread_exit(&ipc_epoll);
	close(server_fd);
	unlink(server_path);
}

/* ---- threads that lkvm has and the manager sees ---- */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;

static void *threadpool_worker(void *arg)
{
	(void)arg;
	set_thread_name("threadpool-worker");
	pthread_mutex_lock(&pool_lock);
	for (;;)
		pthread_cond_wait(&pool_cond, &pool_lock);
	return NULL;
}

/* ---- kernel file: which guest ---- */

static void parse_marker(const char *line)
{
	char *copy = strdup(line), *tok, *save = NULL;

	guest.kind = GUEST_TEST;
	for (tok = strtok_r(copy + strlen(MARKER), " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		char *eq = strchr(tok, '=');
		const char *val = eq ? eq + 1 : "";
		size_t klen = eq ? (size_t)(eq - tok) : strlen(tok);

#define KEY(k) (klen == strlen(k) && !strncmp(tok, k, klen))
		if (KEY("linux")) {
			guest.kind = GUEST_LINUX;
			guest.bzimage = true;
		} else if (KEY("crash-after-ms")) {
			guest.crash_after_ms = atol(val);
		} else if (KEY("flood")) {
			guest.flood = atoll(val);
		} else if (KEY("ignore-sigterm")) {
			guest.ignore_sigterm = true;
		} else if (KEY("socket-delay-ms")) {
			guest.socket_delay_ms = atol(val);
		} else if (KEY("listen-delay-ms")) {
			guest.listen_delay_ms = atol(val);
		} else if (KEY("handlers-delay-ms")) {
			guest.handlers_delay_ms = atol(val);
		} else if (KEY("poweroff-after-ms")) {
			guest.poweroff_after_ms = atol(val);
		} else if (KEY("cpu-percent")) {
			guest.cpu_percent = atoi(val);
			if (guest.cpu_percent < 0)
				guest.cpu_percent = 0;
			if (guest.cpu_percent > 100)
				guest.cpu_percent = 100;
		} else if (KEY("fail")) {
			guest.fail = strdup(val);
		}
#undef KEY
	}
	free(copy);
}

/* reads the kernel file like lkvm's loader; returns its size */
static ssize_t classify_kernel(int fd)
{
	static char buf[1 << 20];
	ssize_t n = read_all(fd, buf, sizeof(buf) - 1);

	if (n < 0)
		n = 0;
	buf[n] = 0;
	guest.kind = GUEST_SILENT;
	if (n >= 4096 && !memcmp(buf + 0x202, "HdrS", 4)) {
		guest.kind = GUEST_LINUX;
		guest.bzimage = true;
	} else if (!strncmp(buf, MARKER, strlen(MARKER))) {
		parse_marker(buf);
	} else if (memmem(buf, n, TEST_GUEST_SIGNATURE, strlen(TEST_GUEST_SIGNATURE))) {
		guest.kind = GUEST_TEST;
	}
	/* the flat binary lands at 0x1000:0000 */
	if (!guest.bzimage && ram_size > 0x10000)
		memcpy(ram + 0x10000, buf, (u64)n < ram_size - 0x10000 ? (u64)n : ram_size - 0x10000);
	return n;
}

/* ---- run ---- */

static void create_rootfs_skeleton(void)
{
	static const char *const dirs[] = { "/dev", "/etc", "/home", "/host", "/proc", "/root", "/sys",
					    "/tmp", "/var", "/var/lib", "/virt", "/virt/home" };
	static const char *const links[] = { "/bin", "/lib", "/lib64", "/sbin", "/usr", "/etc/ld.so.conf" };
	char path[PATH_MAX], target[PATH_MAX];
	size_t i;

	snprintf(path, sizeof(path), "%sdefault", kvm_dir);
	mkdir(path, 0777);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%sdefault%s", kvm_dir, dirs[i]);
		mkdir(path, 0777);
	}
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%sdefault%s", kvm_dir, links[i]);
		snprintf(target, sizeof(target), "/host%s", links[i]);
		if (symlink(target, path)) {
			/* exists already */
		}
	}
}

static const char *find_kernel(void)
{
	static const char *const defaults[] = { "./bzImage", "arch/x86/boot/bzImage", "../../arch/x86/boot/bzImage" };
	static const char *const host[] = { "/boot/vmlinuz", "/boot/bzImage" };
	static char kernel[PATH_MAX];
	struct utsname uts;
	struct stat st;
	size_t i;

	for (i = 0; i < 3; i++)
		if (!stat(defaults[i], &st) && S_ISREG(st.st_mode))
			return defaults[i];
	if (uname(&uts) < 0)
		return NULL;
	for (i = 0; i < 2; i++) {
		snprintf(kernel, sizeof(kernel), "%s-%s", host[i], uts.release);
		if (!stat(kernel, &st) && S_ISREG(st.st_mode))
			return kernel;
	}
	return NULL;
}

static void kernel_usage(void)
{
	static const char *const defaults[] = { "./bzImage", "arch/x86/boot/bzImage", "../../arch/x86/boot/bzImage" };
	struct utsname uts;
	size_t i;

	pr_err("Could not find default kernel image in:");
	for (i = 0; i < 3; i++)
		pr_err("\t%s", defaults[i]);
	if (uname(&uts) < 0)
		return;
	pr_err("\t/boot/vmlinuz-%s", uts.release);
	pr_err("\t/boot/bzImage-%s", uts.release);
	pr_info("Please see '%s run --help' for more options.", "lkvm");
}

static void print_compat_messages(void)
{
	static const struct {
		const char *dev, *config;
	} all[] = {
		{ "virtio-9p", "CONFIG_NET_9P_VIRTIO" }, { "virtio-balloon", "CONFIG_VIRTIO_BALLOON" },
		{ "virtio-rng", "CONFIG_HW_RANDOM_VIRTIO" }, { "virtio-net", "CONFIG_VIRTIO_NET" },
		{ "virtio-console", "CONFIG_VIRTIO_CONSOLE" }, { "virtio-blk", "CONFIG_VIRTIO_BLK" },
		{ "virtio-scsi", "CONFIG_SCSI_VIRTIO" }, { "virtio-vsock", "CONFIG_VIRTIO_VSOCKETS" },
	};
	bool blk = false, scsi = false, wanted[8];
	int i;

	if (guest_has_virtio_drivers())
		return;
	for (i = 0; i < cfg.nr_disks; i++) {
		if (cfg.disks[i].scsi)
			scsi = true;
		else
			blk = true;
	}
	wanted[0] = cfg.nr_9p > 0;
	wanted[1] = cfg.balloon;
	wanted[2] = cfg.rng;
	wanted[3] = !cfg.no_net;
	wanted[4] = cfg.active_console == CONSOLE_VIRTIO;
	wanted[5] = blk;
	wanted[6] = scsi;
	wanted[7] = cfg.vsock_cid != 0;
	for (i = 0; i < 8; i++)
		if (wanted[i])
			pr_warning("KVM compatibility warning.\n\t%s device was not detected.\n\t"
				   "While you have requested a %s device, the guest kernel did not initialize it.\n\t"
				   "Please make sure that the guest kernel was compiled with %s=y enabled in .config.",
				   all[i].dev, all[i].dev, all[i].config);
}

static void init_failed(const char *what)
{
	pr_warning("Failed init: %s\n", what);
	die("Initialisation failed");
}

static long host_ram_pages(void)
{
	long n = sysconf(_SC_PHYS_PAGES);

	return n < 0 ? 0 : n;
}

static int cmd_run(int argc, const char **argv)
{
	static char default_name[20];
	static char real_cmdline[2048];
	int nr_online = sysconf(_SC_NPROCESSORS_ONLN), i, fd;
	ssize_t n;
	u64 host_ram = (u64)host_ram_pages() * sysconf(_SC_PAGE_SIZE);
	pthread_t t;

	while (argc) {
		argc = parse_options(argc, argv, run_options, run_usage, true);
		if (argc) {
			if (cfg.kernel) {
				pr_err("Cannot handle parameter: %s", argv[0]);
				usage_with_options(run_usage, run_options);
			}
			cfg.kernel = argv[0];
			argv++;
			argc--;
		}
	}

	/* validation, in lkvm's order */
	if (cfg.kernel && cfg.firmware)
		die("Only one of --kernel or --firmware can be specified");
	if ((cfg.vnc && (cfg.sdl || cfg.gtk)) || (cfg.sdl && cfg.gtk))
		die("Only one of --vnc, --sdl or --gtk can be specified");
	if (cfg.firmware && cfg.initrd)
		pr_warning("Ignoring initrd file when loading a firmware image");
	if (cfg.ram_size && host_ram && cfg.ram_size > host_ram)
		pr_warning("Guest memory size %lluMB exceeds host physical RAM size %lluMB",
			   (unsigned long long)cfg.ram_size >> MB_SHIFT, (unsigned long long)host_ram >> MB_SHIFT);
	if (!cfg.kernel && !cfg.firmware) {
		cfg.kernel = find_kernel();
		if (!cfg.kernel) {
			kernel_usage();
			return -EINVAL;
		}
	}
	if (cfg.nrcpus == 0)
		cfg.nrcpus = nr_online;
	if (!cfg.ram_size) {
		u64 avail = (u64)(host_ram_pages() * 0.8) * sysconf(_SC_PAGE_SIZE);

		cfg.ram_size = (64ull << 20) * (cfg.nrcpus + 3);
		if (avail && cfg.ram_size > avail)
			cfg.ram_size = avail;
	}
	if (!cfg.console)
		cfg.console = "serial";
	if (!strncmp(cfg.console, "virtio", 6))
		cfg.active_console = CONSOLE_VIRTIO;
	else if (!strncmp(cfg.console, "serial", 6))
		cfg.active_console = CONSOLE_8250;
	else if (!strncmp(cfg.console, "hv", 2))
		cfg.active_console = CONSOLE_HV;
	else
		pr_warning("No console!");
	if (!cfg.guest_name) {
		if (cfg.custom_rootfs) {
			cfg.guest_name = "default";
		} else {
			snprintf(default_name, sizeof(default_name), "guest-%u", getpid());
			cfg.guest_name = default_name;
		}
	}
	if (!cfg.nodefaults && !cfg.using_rootfs && !cfg.nr_disks && !cfg.initrd) {
		/* lkvm's implicit rootfs, and the host's / exported as "hostfs" */
		create_rootfs_skeleton();
		register_9p("default");
		register_9p("/");
		cfg.using_rootfs = cfg.custom_rootfs = true;
	}
	if (cfg.nodefaults) {
		cfg.real_cmdline = cfg.params;
	} else {
		bool video = cfg.vnc || cfg.sdl || cfg.gtk;

		strcpy(real_cmdline, "noapic noacpi pci=conf1 reboot=k panic=1 i8042.direct=1 "
				     "i8042.dumbkbd=1 i8042.nopnp=1");
		strcat(real_cmdline, video ? " video=vesafb" : " earlyprintk=serial i8042.noaux=1");
		if (video)
			strcat(real_cmdline, " console=tty0");
		else if (cfg.active_console == CONSOLE_VIRTIO || cfg.active_console == CONSOLE_HV)
			strcat(real_cmdline, " console=hvc0");
		else if (cfg.active_console == CONSOLE_8250)
			strcat(real_cmdline, " console=ttyS0");
		if (cfg.using_rootfs) {
			strcat(real_cmdline, " rw rootflags=trans=virtio,version=9p2000.L,cache=loose rootfstype=9p");
			if (cfg.custom_rootfs) {
				strcat(real_cmdline, " init=/virt/init");
				if (!cfg.no_dhcp)
					strcat(real_cmdline, "  ip=dhcp");
			}
		} else if (!cfg.params || !strstr(cfg.params, "root=")) {
			strcat(real_cmdline, " root=/dev/vda rw ");
		}
		if (cfg.params) {
			strcat(real_cmdline, " ");
			strncat(real_cmdline, cfg.params, sizeof(real_cmdline) - strlen(real_cmdline) - 1);
		}
		cfg.real_cmdline = real_cmdline;
	}
	if (cfg.kernel)
		pr_info("# %s run -k %s -m %llu -c %d --name %s", "lkvm", cfg.kernel,
			(unsigned long long)cfg.ram_size >> MB_SHIFT, cfg.nrcpus, cfg.guest_name);
	else
		pr_info("# %s run --firmware %s -m %llu -c %d --name %s", "lkvm", cfg.firmware,
			(unsigned long long)cfg.ram_size >> MB_SHIFT, cfg.nrcpus, cfg.guest_name);

	/* core init: the machine */
	if (cfg.kernel) {
		/* the marker decides whether this host "has" hardware virtualization */
		fd = open(cfg.kernel, O_RDONLY);
		if (fd >= 0) {
			char head[256] = "";
			ssize_t n = read(fd, head, sizeof(head) - 1);

			if (n > 0 && !strncmp(head, MARKER, strlen(MARKER))) {
				head[n] = 0;
				parse_marker(head);
			}
			close(fd);
		}
	}
	if (guest.fail && !strcmp(guest.fail, "cpu")) {
		pr_err("Your CPU does not support hardware virtualization");
		init_failed("kvm__init");
	} else if (guest.fail && !strcmp(guest.fail, "nodev")) {
		pr_err("'%s' not found. Please make sure your kernel has CONFIG_KVM enabled and that the KVM modules are loaded.",
		       cfg.dev ? cfg.dev : "/dev/kvm");
		init_failed("kvm__init");
	} else if (guest.fail && !strcmp(guest.fail, "noperm")) {
		errno = EACCES;
		pr_err("Could not open %s: ", cfg.dev ? cfg.dev : "/dev/kvm");
		init_failed("kvm__init");
	}
	if (cfg.hugetlbfs) {
		struct statfs sfs;

		if (statfs(cfg.hugetlbfs, &sfs) < 0)
			die("Can't stat %s\n", cfg.hugetlbfs);
		if ((unsigned int)sfs.f_type != HUGETLBFS_MAGIC_NR)
			die("%s is not hugetlbfs!\n", cfg.hugetlbfs);
	}
	ram_size = cfg.ram_size;
	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		die("out of memory");
	madvise(ram, ram_size, MADV_MERGEABLE);
	if (cfg.kernel) {
		fd = open(cfg.kernel, O_RDONLY);
		if (fd < 0)
			die("Unable to open kernel %s", cfg.kernel);
		if (cfg.initrd && open(cfg.initrd, O_RDONLY) < 0)
			die("Unable to open initrd %s", cfg.initrd);
		n = classify_kernel(fd);
		close(fd);
		if (!guest.bzimage) {
			pr_warning("Kernel image is not a bzImage.");
			pr_warning("Trying to load it as a flat binary (no cmdline support)");
			if (cfg.initrd)
				pr_warning("Loading initrd with flat binary not supported.");
			if (n == 0) {
				/* what lkvm's loader reports for an empty file */
				errno = 0;
				die_perror("read");
			}
		}
	} else {
		fd = open(cfg.firmware, O_RDONLY);
		if (fd < 0)
			die("unable to load firmware image %s: %s", cfg.firmware, strerror(errno));
		close(fd);
		guest.kind = GUEST_SILENT;
	}
	/* the BIOS areas lkvm clears and fills */
	if (ram_size >= 0x100000) {
		memset(ram + 0x400, 0, 0x100);
		memset(ram + 0x9fc00, 0, 0x400);
		memset(ram + 0xf0000, 0, 0x10000);
		memset(ram + 0xc0000, 0, 0x8000);
	}

	/* base init: vCPUs, then the IPC socket */
	nrcpus = cfg.nrcpus;
	if (nrcpus > 1024) {
		pr_warning("Limiting the number of CPUs to %d", 1024);
		nrcpus = cfg.nrcpus = 1024;
	} else if (nrcpus > nr_online) {
		pr_warning("The maximum recommended amount of VCPUs is %d", nr_online);
	}
	if (nrcpus < 1)
		nrcpus = 1;
	cpus = calloc(nrcpus + 1, sizeof(*cpus));
	for (i = 0; i < nrcpus; i++) {
		cpus[i] = calloc(1, sizeof(**cpus));
		cpus[i]->id = i;
		cpus[i]->is_running = 1;
	}
	if (ipc_init() < 0)
		init_failed("kvm_ipc__init");
	if (epoll_thread_init(&ioeventfd_epoll, "ioeventfd-worker", NULL))
		init_failed("ioeventfd__init");
	if (cfg.balloon) {
		handlers[IPC_BALLOON] = handle_balloon;
		handlers[IPC_STAT] = handle_stat;
	}

	/* device init */
	for (i = 0; i < cfg.nr_disks; i++) {
		const char *f = cfg.disks[i].filename + (cfg.disks[i].scsi ? 5 : 0);

		fd = open(f, cfg.disks[i].readonly ? O_RDONLY : O_RDWR);
		if (fd < 0) {
			pr_err("Loading disk image '%s' failed", cfg.disks[i].filename);
			init_failed("disk_image__init");
		}
		close(fd);
	}
	for (i = 0; i < TERM_MAX_DEVS; i++) {
		pthread_mutex_init(&devs[i].mutex, NULL);
	}
	wake_fd = eventfd(0, EFD_NONBLOCK);
	term_init();
	if (cfg.vsock_cid && access("/dev/vhost-vsock", R_OK | W_OK)) {
		fprintf(stderr, "Failed opening vhost-vsock device: %s\n", strerror(errno));
		exit(1);
	}
	if (nrcpus > 255)
		pr_warning("Too many cpus: %d limited to %d", nrcpus, 255);
	for (i = 0; i < nr_online; i++)
		pthread_create(&t, NULL, threadpool_worker, NULL);
	if (guest.ignore_sigterm)
		signal(SIGTERM, SIG_IGN);
	if (guest.crash_after_ms >= 0)
		arm_crash_timer(guest.crash_after_ms);

	/* run */
	start_ns = now_ns();
	signal(SIGKVMEXIT, vcpu_signal_handler);
	signal(SIGKVMPAUSE, vcpu_signal_handler);
	for (i = 0; i < nrcpus; i++)
		if (pthread_create(&cpus[i]->thread, NULL, vcpu_thread, cpus[i]))
			die("unable to create KVM VCPU thread");
	if (pthread_join(cpus[0]->thread, NULL))
		die("unable to join with vcpu 0");

	/* teardown, in lkvm's order */
	cpus[0] = NULL;
	pthread_mutex_lock(&pause_lock);
	for (i = 1; i < nrcpus; i++) {
		if (cpus[i]->is_running) {
			pthread_kill(cpus[i]->thread, SIGKVMEXIT);
			pthread_join(cpus[i]->thread, NULL);
		}
	}
	pthread_mutex_unlock(&pause_lock);
	print_compat_messages();
	ipc_exit();
	pr_info("KVM session ended normally.");
	return 0;
}

static int help_command(const char *cmd)
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
	if (!strcmp(cmd, "run") || !strcmp(cmd, "sandbox"))
		usage_with_options(run_usage, run_options);
	if (strcmp(cmd, "version") && strcmp(cmd, "--version") && strcmp(cmd, "help") && strcmp(cmd, "setup"))
		cmd_help();
	return 0;
}

static int cmd_version(void)
{
	printf("kvm tool %s\n", VERSION);
	return 0;
}

int main(int argc, char *argv[])
{
	const char **args = (const char **)argv + 1;
	const char *cmd;
	int ret;

	set_dir();
	argc--;
	if (!argc)
		return cmd_help();
	cmd = args[0];
	args++;
	argc--;
	if (!strcmp(cmd, "pause"))
		ret = simple_instance_cmd(argc, args, pause_options, pause_usage, do_pause);
	else if (!strcmp(cmd, "resume"))
		ret = simple_instance_cmd(argc, args, resume_options, resume_usage, do_resume);
	else if (!strcmp(cmd, "debug"))
		ret = cmd_debug(argc, args);
	else if (!strcmp(cmd, "balloon"))
		ret = cmd_balloon(argc, args);
	else if (!strcmp(cmd, "list"))
		ret = cmd_list(argc, args);
	else if (!strcmp(cmd, "version") || !strcmp(cmd, "--version"))
		ret = cmd_version();
	else if (!strcmp(cmd, "stop"))
		ret = simple_instance_cmd(argc, args, stop_options, stop_usage, do_stop);
	else if (!strcmp(cmd, "stat"))
		ret = cmd_stat(argc, args);
	else if (!strcmp(cmd, "help"))
		ret = argc ? help_command(args[0]) : cmd_help();
	else if (!strcmp(cmd, "run"))
		ret = cmd_run(argc, args);
	else if (!strcmp(cmd, "setup") || !strcmp(cmd, "sandbox"))
		die("the lkvm stand-in does not emulate '%s'", cmd);
	else {
		cmd_help();
		return EINVAL;
	}
	if (ret < 0 && errno == EPERM)
		die("Permission error - are you root?");
	return ret;
}
