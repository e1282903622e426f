/*
 * The IPC socket $HOME/.lkvm/NAME.sock: the client side (lkvm list, stop, ...) and the server, one epoll
 * thread that reads each connection until its peer closes, as lkvm's kvm-ipc.c.
 */
#include "lkvm-standin.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

char kvm_dir[PATH_MAX];

void set_dir(void)
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

#define IPC_MAX_MSGS 16

struct ipc_head {
	u32 type;
	u32 len;
};

int get_sock_by_instance(const char *name)
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

int ipc_send(int fd, u32 type, u32 len, const void *msg)
{
	struct ipc_head head = { type, len };

	if (write_all(fd, &head, sizeof(head)) < 0)
		return -1;
	if (len && write_all(fd, msg, len) < 0)
		return -1;
	return 0;
}

int enumerate_instances(int (*cb)(const char *name, int fd))
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

/* ---- the server: one epoll thread, as lkvm's kvm-ipc ---- */

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
static struct epoll_thread ipc_epoll;
static int vm_state;	/* 0 running, 1 paused: the VMSTATE reply */
static int is_paused;

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

	if (WARN_ON(type != IPC_DEBUG || len != sizeof(*p), "handle_debug", 487))
		return;
	if (p->dbg_type & DEBUG_SYSRQ)
		serial_queue_sysrq(p->sysrq);
	if (p->dbg_type & DEBUG_NMI) {
		if ((int)p->cpu >= nrcpus)
			return;
		vcpu_nmi(p->cpu);
	}
	if (!(p->dbg_type & DEBUG_DUMP))
		return;
	vcpus_dump(fd);
	close(fd);
	serial_queue_sysrq('p');
}

/* ---- the balloon device's requests ---- */

static u64 balloon_num_pages, balloon_actual;
static pthread_mutex_t balloon_lock = PTHREAD_MUTEX_INITIALIZER;

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

int ipc_init(void)
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
	vcpus_dump_init();
	return 0;
}

/* lkvm's balloon device registers these when --balloon is given */
void ipc_enable_balloon(void)
{
	handlers[IPC_BALLOON] = handle_balloon;
	handlers[IPC_STAT] = handle_stat;
}

void ipc_exit(void)
{
	epoll_thread_exit(&ipc_epoll);
	close(server_fd);
	unlink(server_path);
}

/* an epoll thread with nothing to serve here, named as one of lkvm's (ioeventfd, vhost irqs) */
int epoll_worker_start(const char *name)
{
	struct epoll_thread *e = calloc(1, sizeof(*e));

	return e ? epoll_thread_init(e, name, NULL) : -1;
}

int ioeventfd_init(void)
{
	return epoll_worker_start("ioeventfd-worker");
}
