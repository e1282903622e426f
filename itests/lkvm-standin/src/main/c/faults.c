/*
 * The marker files' faults (see lkvm-standin.h): a kernel file whose first line is "KVMTOOL-STANDIN
 * tokens..." makes the stand-in crash, flood, start slowly, ignore SIGTERM or fail as lkvm fails on
 * hosts without KVM.
 */
#include "lkvm-standin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void parse_marker(const char *line)
{
	char *copy = strdup(line), *tok, *save = NULL;

	guest.kind = GUEST_TEST;
	guest.version = TEST_GUEST_VERSION;
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

bool poweroff_due(void)
{
	return guest.poweroff_after_ms >= 0 && (now_ns() - start_ns) / 1000000 >= (u64)guest.poweroff_after_ms;
}


/* lkvm's kvm__init failures, when the marker says this host lacks VMX or /dev/kvm */
void faults_check_kvm_init(const char *kernel)
{
	int fd;

	if (kernel) {
		/* the marker decides whether this host "has" hardware virtualization */
		fd = open(kernel, O_RDONLY);
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
}

/* the faults that act once the machine is set up */
void faults_arm(void)
{
	if (guest.ignore_sigterm)
		signal(SIGTERM, SIG_IGN);
	if (guest.crash_after_ms >= 0)
		arm_crash_timer(guest.crash_after_ms);
}
