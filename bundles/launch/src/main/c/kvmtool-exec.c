/*
 * kvmtool-exec: the last step between the manager's JVM and lkvm.
 *
 * posix_spawn can neither join a cgroup before exec nor change the uid, so the JVM spawns this
 * helper (own session, default signals, empty mask, stdio = the pty master, fd 3 = the write end
 * of a close-on-exec error pipe, fd 4 = the read end of a "go" pipe, nothing else open, scrubbed
 * environment) and the helper:
 *   1. writes "0" into each cgroup.procs file given (-c), so lkvm runs inside its cgroup from
 *      its first instruction;
 *   2. if asked (-g, -G, -u): setgroups, setgid, setuid, and checks that root cannot be regained;
 *   3. changes to $HOME (kvmtool puts its socket in $HOME/.lkvm), and, when stdio is a pty master,
 *      opens its slave for lkvm to keep (TIOCGPTPEER, not close-on-exec): the pty then never hangs up
 *      while the manager is away (restart, update), where lkvm's console thread would spin a CPU on
 *      the hang-up; the guest's output waits in the pty (flow control) until the manager drains it;
 *   4. checks, as the final user, that the files lkvm needs are there (-r readable, -w writable),
 *      so that a missing kernel is reported by name rather than as a dead lkvm; then takes the image
 *      locks (-x exclusive, -s shared): flock, non-blocking, on a descriptor opened here and left open
 *      across exec, so lkvm itself holds the lock for exactly its own life (a manager restart or bundle
 *      update does not touch it, lkvm's end releases it, and every manager on the host sees it);
 *   5. waits for one byte on fd 4: the JVM sends it once it has recorded the pid (the domain's status
 *      file). At EOF the JVM died before that, so nobody would know this lkvm: exit 125, no exec
 *      (libvirt's handshake before exec, for the same reason);
 *   6. execve()s the program after "--" with the environment it was given.
 * On failure it writes one line "STEP<TAB>ERRNO<TAB>DETAIL\n" to fd 3 and exits 127. On success
 * the exec closes fd 3 (close-on-exec) and the JVM reads EOF. The pid stays the same across exec.
 *
 * A lock held by another process is reported as "lock-ex" or "lock-sh" (the kind asked for) with
 * errno EWOULDBLOCK and "LABEL PATH": the JVM names the holder.
 *
 * Usage: kvmtool-exec [-c CGROUP_PROCS]... [-G GID,GID...] [-g GID] [-u UID]
 *                     [-r LABEL=PATH]... [-w LABEL=PATH]... [-x LABEL=PATH]... [-s LABEL=PATH]...
 *                     -- PROGRAM [ARG]...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define ERR_FD 3
#define GO_FD 4
#define EXIT_ORPHANED 125
#define MAX_ITEMS 64

extern char **environ;

static void put(const char *s)
{
	size_t len = strlen(s);
	while (len > 0) {
		ssize_t n = write(ERR_FD, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Reports one failure and ends the helper: the JVM turns the line into a KvmtoolException. */
static void fail(const char *step, int err, const char *detail)
{
	char num[16];
	int i = (int)sizeof(num) - 1;
	unsigned v = (unsigned)(err < 0 ? -err : err);

	num[i] = '\0';
	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	put(step);
	put("\t");
	put(num + i);
	put("\t");
	put(detail ? detail : "");
	put("\n");
	_exit(127);
}

/*
 * posix_spawn set every signal to its default and cleared the mask, except glibc's two internal
 * signals (32 and 33): glibc's sigfillset leaves them out and its sigaction refuses them, so they arrive
 * here ignored (and exec keeps "ignored"). Raw system calls give lkvm a clean slate.
 */
static void reset_internal_signals(void)
{
	/* the kernel's struct sigaction on x86-64 and arm64: handler, flags, restorer, mask */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long mask;
	} dfl = { SIG_DFL, 0, NULL, 0 };
	unsigned long none = 0;

	for (int sig = 32; sig < SIGRTMIN; sig++)
		if (syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask)) < 0)
			fail("sigaction", errno, "");
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none)) < 0)
		fail("sigprocmask", errno, "");
}

static int parse_id(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX)
		return -1;
	*out = v;
	return 0;
}

static void join_cgroup(const char *procs)
{
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		fail("cgroup", errno, procs);
	/* "0" means "the writing process" in both cgroup v1 and v2. */
	n = write(fd, "0", 1);
	if (n != 1)
		fail("cgroup", n < 0 ? errno : EIO, procs);
	if (close(fd) < 0)
		fail("cgroup", errno, procs);
}

/* The path of a "LABEL=PATH" argument. */
static const char *path_of(const char *spec)
{
	const char *eq = strchr(spec, '=');

	return eq ? eq + 1 : spec;
}

/* Fails with detail = "LABEL PATH", so the JVM can say "kernel /x: No such file or directory". */
static void fail_file(const char *step, int err, const char *spec)
{
	const char *eq = strchr(spec, '=');
	const char *path = path_of(spec);
	char detail[PATH_MAX + 64];
	size_t label_len = eq ? (size_t)(eq - spec) : 0;

	if (label_len >= 32)
		label_len = 31;
	memcpy(detail, spec, label_len);
	detail[label_len] = ' ';
	strncpy(detail + label_len + 1, path, sizeof(detail) - label_len - 2);
	detail[sizeof(detail) - 1] = '\0';
	fail(step, err, detail);
}

static void check_file(const char *spec, int writable)
{
	if (access(path_of(spec), writable ? (R_OK | W_OK) : R_OK) < 0)
		fail_file("file", errno, spec);
}

/*
 * Opens the image as the final user and locks it, non-blocking; the descriptor is deliberately left open and
 * not close-on-exec: lkvm inherits it, and the lock (kept by the open file, not the process) lasts until lkvm's
 * end. An exclusive lock is taken on a read-write descriptor, as lkvm will open that image (flock on NFS is a
 * byte-range lock on the server, which wants one).
 */
static void lock_image(const char *spec, int exclusive)
{
	const char *step = exclusive ? "lock-ex" : "lock-sh";
	int fd = open(path_of(spec), (exclusive ? O_RDWR : O_RDONLY) | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		fail_file(step, errno, spec);
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0)
		fail_file(step, errno, spec);
}

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/*
 * The slave of the pty master on stdin, left open for lkvm. Nothing when stdin is no pty master
 * (ENOTTY, EINVAL) or its slave is still locked (EIO: nobody can open it, so it cannot hang up either).
 */
static void keep_console_peer(void)
{
	int fd = ioctl(0, TIOCGPTPEER, O_RDWR | O_NOCTTY);

	if (fd < 0 && errno != ENOTTY && errno != EINVAL && errno != EIO)
		fail("console", errno, "TIOCGPTPEER");
}

/* Blocks until the JVM says go; ends here, silently, if the JVM is gone (EOF) or broke the pipe. */
static void wait_for_go(void)
{
	char b;
	ssize_t n;

	do
		n = read(GO_FD, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(EXIT_ORPHANED);
	close(GO_FD);
}

int main(int argc, char **argv)
{
	const char *cgroups[MAX_ITEMS], *readable[MAX_ITEMS], *writable[MAX_ITEMS], *locks[MAX_ITEMS];
	int exclusive[MAX_ITEMS];
	int ncg = 0, nr = 0, nw = 0, nl = 0, i;
	long uid = -1, gid = -1, v;
	gid_t groups[MAX_ITEMS];
	int ngroups = -1;
	const char *home;

	/* fd 3 arrived through dup2, which clears close-on-exec: set it again so lkvm never sees it. */
	if (fcntl(ERR_FD, F_SETFD, FD_CLOEXEC) < 0 || fcntl(GO_FD, F_SETFD, FD_CLOEXEC) < 0)
		_exit(126);
	reset_internal_signals();

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0' || a[2] != '\0' || i + 1 >= argc)
			fail("usage", EINVAL, a);
		const char *val = argv[++i];

		switch (a[1]) {
		case 'c':
			if (ncg == MAX_ITEMS)
				fail("usage", E2BIG, a);
			cgroups[ncg++] = val;
			break;
		case 'r':
			if (nr == MAX_ITEMS)
				fail("usage", E2BIG, a);
			readable[nr++] = val;
			break;
		case 'w':
			if (nw == MAX_ITEMS)
				fail("usage", E2BIG, a);
			writable[nw++] = val;
			break;
		case 'x':
		case 's':
			if (nl == MAX_ITEMS)
				fail("usage", E2BIG, a);
			exclusive[nl] = a[1] == 'x';
			locks[nl++] = val;
			break;
		case 'u':
			if (parse_id(val, &uid))
				fail("usage", EINVAL, val);
			break;
		case 'g':
			if (parse_id(val, &gid))
				fail("usage", EINVAL, val);
			break;
		case 'G': {
			char buf[1024];
			char *save = NULL, *tok;

			strncpy(buf, val, sizeof(buf) - 1);
			buf[sizeof(buf) - 1] = '\0';
			ngroups = 0;
			for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (ngroups == MAX_ITEMS || parse_id(tok, &v))
					fail("usage", EINVAL, val);
				groups[ngroups++] = (gid_t)v;
			}
			break;
		}
		default:
			fail("usage", EINVAL, a);
		}
	}
	if (i >= argc)
		fail("usage", EINVAL, "no program after --");

	for (int k = 0; k < ncg; k++)
		join_cgroup(cgroups[k]);

	if (uid >= 0 && ngroups < 0)
		ngroups = 0; /* an unprivileged lkvm keeps none of root's supplementary groups */
	if (ngroups >= 0 && setgroups((size_t)ngroups, groups) < 0)
		fail("setgroups", errno, "");
	if (gid >= 0 && setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0)
		fail("setgid", errno, "");
	if (uid >= 0) {
		if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
			fail("setuid", errno, "");
		if (uid != 0 && (setuid(0) == 0 || geteuid() != (uid_t)uid || getuid() != (uid_t)uid))
			fail("setuid", EPERM, "root could be regained");
	}

	home = getenv("HOME");
	if (home && *home && chdir(home) < 0)
		fail("chdir", errno, home);
	keep_console_peer();

	for (int k = 0; k < nr; k++)
		check_file(readable[k], 0);
	for (int k = 0; k < nw; k++)
		check_file(writable[k], 1);
	for (int k = 0; k < nl; k++)
		lock_image(locks[k], exclusive[k]);

	wait_for_go();
	execve(argv[i], argv + i, environ);
	fail("exec", errno, argv[i]);
	return 127;
}
