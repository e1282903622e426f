/* Messages as lkvm prints them, and small helpers shared by the stand-in's files. */
#include "lkvm-standin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>

int loglevel = LOG_INFO;

static void report(const char *prefix, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, " %s%s\n", prefix, msg);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(" Fatal: ", fmt, ap);
	va_end(ap);
	exit(128);
}

#define DEFINE_PR(name, level, prefix)					\
	void name(const char *fmt, ...)					\
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

void die_perror(const char *s)
{
	perror(s);
	exit(1);
}

/* what lkvm's init list prints when one of its steps fails */
void init_failed(const char *what)
{
	pr_warning("Failed init: %s\n", what);
	die("Initialisation failed");
}

ssize_t write_all(int fd, const void *buf, size_t len)
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

ssize_t read_all(int fd, void *buf, size_t len)
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

u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void set_thread_name(const char *name)
{
	/* like lkvm: the kernel keeps the first 15 characters */
	prctl(PR_SET_NAME, name);
}
