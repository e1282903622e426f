/*
 * The machine and its guests: vCPU threads with lkvm's pause and exit signals, guest RAM, the debug dump,
 * and the guests the stand-in runs: the test guest (itests/guest, emulated exactly), the Linux-like guest,
 * and a silent flat binary.
 */
#include "lkvm-standin.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

struct vcpu {
	pthread_t thread;
	int id;
	volatile sig_atomic_t is_running;
	volatile sig_atomic_t paused;
	volatile sig_atomic_t needs_nmi;
};

#define SIGKVMEXIT (SIGRTMIN + 0)
#define SIGKVMPAUSE (SIGRTMIN + 1)

int nrcpus;
static struct vcpu **cpus;
static __thread struct vcpu *current_cpu;
static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;
static int pause_event = -1;
u64 start_ns;

unsigned char *ram;
u64 ram_size;

/* the guest as chosen by the kernel file (and, for markers, its faults) */
struct guest guest = { .crash_after_ms = -1, .poweroff_after_ms = -1, .socket_delay_ms = 10, .cpu_percent = 10 };

void kvm_reboot(void)
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

void kvm_pause(void)
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

void kvm_continue(void)
{
	pthread_mutex_unlock(&pause_lock);
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
	struct timespec ts;

	while (cpu->is_running && now_ns() - start < busy)
		if (wake_on_input && serial_data_ready())
			return;
	if (!cpu->is_running || busy >= period)
		return;
	if (wake_on_input) {
		console_wait_input(period - busy);
	} else {
		ts.tv_sec = 0;
		ts.tv_nsec = period - busy;
		nanosleep(&ts, NULL);
	}
}

static void touch_ram_above_1m(void)
{
	u64 a;

	/* the test guest writes each page's address into it (E820 RAM >= 1 MiB, below 4 GiB) */
	for (a = 0x100000; a + 4096 <= ram_size && a + 4096 <= GAP_START; a += 4096)
		*(u32 *)(ram + a) = (u32)a;
}

/* n bytes of the test guest's flood pattern, written per_write bytes at a time (at most 64) */
static void flood(long long n, size_t per_write)
{
	static const char line[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n";
	char buf[64];
	long long off = 0;

	while (off < n && current_cpu->is_running) {
		size_t i, len = n - off < (long long)per_write ? (size_t)(n - off) : per_write;

		for (i = 0; i < len; i++)
			buf[i] = line[(off + i) % (sizeof(line) - 1)];
		guest_write(buf, len);
		off += len;
	}
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

/* the next console byte for a guest that polls LSR for it; -1 once it must stop */
static int guest_getc(struct vcpu *cpu)
{
	while (cpu->is_running && !poweroff_due()) {
		int c = serial_getc();

		if (c >= 0)
			return c;
		vcpu_idle(cpu, true);
	}
	return -1;
}

/*
 * The test guest's flood command (version 2): after Ctrl-F, decimal digits make a 32-bit count N; the byte
 * that ends them is swallowed (a break reads as 0, not a digit). No digits or 0: 1 MiB.
 */
static void flood_command(struct vcpu *cpu)
{
	u32 n = 0;
	int c;

	while ((c = guest_getc(cpu)) >= '0' && c <= '9')
		n = n * 10 + (c - '0');
	if (c < 0)
		return;
	/* one write per byte, as kvmtool's UART hands each byte to the terminal */
	flood(n ? n : TEST_GUEST_FLOOD_DEFAULT, 1);
}

static void guest_test(struct vcpu *cpu)
{
	guest_puts("GUEST READY\r\n");
	if (guest.flood > 0)
		flood(guest.flood, 64);
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
		if (c == TEST_GUEST_FLOOD && guest.version >= 2) {
			flood_command(cpu);
			continue;
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
		flood(guest.flood, 64);
	while (cpu->is_running) {
		/* ttyS0 always exists: a break (SysRq) arrives there whatever the console */
		int c = serial_getc();

		if (poweroff_due())
			break;
		if (c < 0 && cfg.active_console != CONSOLE_8250)
			c = vcons_getc();
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

void vcpus_init(int n)
{
	int i;

	nrcpus = n;
	cpus = calloc(nrcpus + 1, sizeof(*cpus));
	for (i = 0; i < nrcpus; i++) {
		cpus[i] = calloc(1, sizeof(**cpus));
		cpus[i]->id = i;
		cpus[i]->is_running = 1;
	}
}

/* starts every vCPU and returns when vCPU 0 has ended (the guest reset, or a STOP) */
void vcpus_run(void)
{
	int i;

	start_ns = now_ns();
	signal(SIGKVMEXIT, vcpu_signal_handler);
	signal(SIGKVMPAUSE, vcpu_signal_handler);
	for (i = 0; i < nrcpus; i++)
		if (pthread_create(&cpus[i]->thread, NULL, vcpu_thread, cpus[i]))
			die("unable to create KVM VCPU thread");
	if (pthread_join(cpus[0]->thread, NULL))
		die("unable to join with vcpu 0");
}

/* the other vCPUs, in lkvm's teardown order */
void vcpus_exit(void)
{
	int i;

	cpus[0] = NULL;
	pthread_mutex_lock(&pause_lock);
	for (i = 1; i < nrcpus; i++) {
		if (cpus[i]->is_running) {
			pthread_kill(cpus[i]->thread, SIGKVMEXIT);
			pthread_join(cpus[i]->thread, NULL);
		}
	}
	pthread_mutex_unlock(&pause_lock);
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

void vcpus_dump_init(void)
{
	signal(SIGUSR1, handle_sigusr1);
}

/* DEBUG's dump: each vCPU prints its registers into fd, one after the other */
void vcpus_dump(int fd)
{
	int i;

	for (i = 0; i < nrcpus; i++) {
		if (!cpus[i])
			continue;
		printout_done = 0;
		debug_fd = fd;
		pthread_kill(cpus[i]->thread, SIGUSR1);
		while (!printout_done)
			sched_yield();
	}
}

void vcpu_nmi(u32 cpu)
{
	cpus[cpu]->needs_nmi = 1;
	if (guest.kind == GUEST_LINUX) {
		/* what Linux prints for an NMI nobody claims */
		char m[96];

		snprintf(m, sizeof(m), "Uhhuh. NMI received for unknown reason 00 on CPU %u.", cpu);
		linux_printk(m);
		linux_printk("Dazed and confused, but trying to continue");
	}
	cpus[cpu]->needs_nmi = 0;
}

/* ---- kernel file: which guest ---- */

/* reads the kernel file like lkvm's loader; returns its size */
ssize_t classify_kernel(int fd)
{
	static char buf[1 << 20];
	ssize_t n = read_all(fd, buf, sizeof(buf) - 1);
	const char *sig;

	if (n < 0)
		n = 0;
	buf[n] = 0;
	guest.kind = GUEST_SILENT;
	if (n >= 4096 && !memcmp(buf + 0x202, "HdrS", 4)) {
		guest.kind = GUEST_LINUX;
		guest.bzimage = true;
	} else if (!strncmp(buf, MARKER, strlen(MARKER))) {
		parse_marker(buf);
	} else if ((sig = memmem(buf, n, TEST_GUEST_SIGNATURE, strlen(TEST_GUEST_SIGNATURE)))) {
		guest.kind = GUEST_TEST;
		guest.version = atoi(sig + strlen(TEST_GUEST_SIGNATURE));
	}
	/* the flat binary lands at 0x1000:0000 */
	if (!guest.bzimage && ram_size > 0x10000)
		memcpy(ram + 0x10000, buf, (u64)n < ram_size - 0x10000 ? (u64)n : ram_size - 0x10000);
	return n;
}

bool guest_has_virtio_drivers(void)
{
	return guest.kind == GUEST_LINUX;
}
