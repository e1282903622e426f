/*
 * The console: the four 8250 UARTs as the guest sees them (hw/serial.c: a 64-byte receive FIFO, LSR data
 * ready and break) and the terminal as the host sees it (term.c: stdin/stdout or --tty ptys, raw mode,
 * the term-poll thread, the Ctrl-A escape).
 */
#include "lkvm-standin.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#define FIFO_LEN 64
#define LSR_DR 0x01
#define LSR_BI 0x10

/* the four 8250 UARTs, as far as a guest and the host terminal see them */
static struct serial {
	pthread_mutex_t mutex;
	int rxcnt, rxdone;
	unsigned char rxbuf[FIFO_LEN];
	volatile u8 lsr;
} devs[TERM_MAX_DEVS];
static volatile int sysrq_pending;
static int wake_fd = -1;	/* wakes vCPU 0 when console input arrives */

static int term_fds[TERM_MAX_DEVS][2];
static bool term_assigned[TERM_MAX_DEVS];

/* --tty N: lkvm's own pty for terminal N (needs a terminal on stdin to copy its settings) */
int term_open_pty(int tty)
{
	struct termios t;
	int master, slave;
	char name[PATH_MAX];

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
int serial_getc(void)
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

void guest_write(const void *buf, size_t len)
{
	pthread_mutex_lock(&devs[0].mutex);
	term_putc(0, buf, len);
	pthread_mutex_unlock(&devs[0].mutex);
}

void guest_puts(const char *s)
{
	guest_write(s, strlen(s));
}

/* the UARTs, the vCPU's wake-up event, then term.c's init (lkvm's dev_init order) */
void console_init(void)
{
	int i;

	for (i = 0; i < TERM_MAX_DEVS; i++)
		pthread_mutex_init(&devs[i].mutex, NULL);
	wake_fd = eventfd(0, EFD_NONBLOCK);
	term_init();
}

bool serial_data_ready(void)
{
	return devs[0].lsr & LSR_DR;
}

/* DEBUG's SysRq: delivered as a break and the key with the next console input (serial port 0) */
void serial_queue_sysrq(char c)
{
	sysrq_pending = c;
}

/* the next byte for a Linux-like guest on a virtio or hv console, -1 if none */
int vcons_getc(void)
{
	int c = -1;

	pthread_mutex_lock(&devs[0].mutex);
	if (vcons_len) {
		c = vcons_buf[0];
		memmove(vcons_buf, vcons_buf + 1, --vcons_len);
	}
	pthread_mutex_unlock(&devs[0].mutex);
	return c;
}

/* a vCPU waiting for console input, at most ns nanoseconds */
void console_wait_input(long ns)
{
	struct pollfd p = { wake_fd, POLLIN, 0 };
	struct timespec ts = { 0, ns };

	if (!serial_data_ready() && ppoll(&p, 1, &ts, NULL) > 0) {
		u64 n;

		if (read(wake_fd, &n, sizeof(n)) < 0) {
			/* raced with another reader: fine */
		}
	}
}
