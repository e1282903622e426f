/*
 * A minimal lkvm look-alike for the launch tests and benchmark (the full stand-in lives in
 * itests/lkvm-standin): "ipc-answerer --name NAME [--exit-code N]" listens on $HOME/.lkvm/NAME.sock
 * like kvmtool, answers PID and VMSTATE, and on STOP removes its socket, writes
 * "EXIT <CLOCK_MONOTONIC ns>\n" to stdout and exits (0 unless --exit-code). Signals kill it with
 * the socket left behind, as they do lkvm.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = NULL, *home = getenv("HOME");
	int exit_code = 0, srv;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[4096];

	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--name") == 0)
			name = argv[++i];
		else if (strcmp(argv[i], "--exit-code") == 0)
			exit_code = atoi(argv[++i]);
	}
	if (!name || !home)
		return 2;
	snprintf(dir, sizeof(dir), "%s/.lkvm", home);
	mkdir(dir, 0700);
	{
		char path[4096];
		int n = snprintf(path, sizeof(path), "%s/%s.sock", dir, name);

		if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
			return 4; /* kvmtool would truncate it silently */
		memcpy(addr.sun_path, path, (size_t)n + 1);
	}
	unlink(addr.sun_path);
	srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv < 0 || bind(srv, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(srv, 5) < 0)
		return 3;
	/* the manager takes lkvm as ready once a vCPU thread runs: our one thread stands for it */
	prctl(PR_SET_NAME, "kvm-vcpu-0", 0, 0, 0);
	for (;;) {
		int c = accept(srv, NULL, NULL);
		uint32_t head[2];

		if (c < 0)
			continue;
		while (read_full(c, head, sizeof(head)) == 0) {
			char payload[64];
			int32_t answer;

			if (head[1] > sizeof(payload) || read_full(c, payload, head[1]) < 0)
				break;
			if (head[0] == 7 || head[0] == 8) { /* PID, VMSTATE */
				answer = head[0] == 7 ? (int32_t)getpid() : 0;
				if (write(c, &answer, sizeof(answer)) != sizeof(answer))
					break;
			} else if (head[0] == 6) { /* STOP */
				struct timespec ts;

				unlink(addr.sun_path);
				clock_gettime(CLOCK_MONOTONIC, &ts);
				printf("EXIT %lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
				fflush(stdout);
				_exit(exit_code);
			}
		}
		close(c);
	}
}
