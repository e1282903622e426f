/*
 * lkvm stand-in: a test double of kvmtool's `lkvm` 3.18.0 (x86), for CI
 * machines where kvmtool is not installed. Test-only: no product code knows
 * it. It reproduces what a manager can observe of the real binary (see
 * itests/lkvm-standin/BEHAVIOURS.md): command line and messages, exit codes,
 * $HOME/.lkvm/NAME.sock with ghost handling, the IPC protocol served by one
 * blocking epoll thread, pause/stop semantics, thread names, guest memory,
 * CPU time, the serial console through stdin/stdout.
 *
 * Written from kvmtool's observable behaviour; no kvmtool code is copied.
 *
 * FILES (one subsystem each, as kvmtool's own sources are split)
 *   main.c      argv of `run`, the run sequence in lkvm's init order
 *   options.c   lkvm's parse-options: usage text, errors, exit 129
 *   commands.c  the clients: list, stop, pause, resume, debug, stat, balloon
 *   ipc.c       $HOME/.lkvm/NAME.sock, the kvm-ipc thread and its handlers
 *   console.c   the four 8250 UARTs and term.c's terminal (stdio, --tty)
 *   guest.c     vCPUs, pause, and the guests: test guest, Linux-like, silent
 *   devices.c   what lkvm opens on the host: RAM (hugetlbfs), vhost-vsock, taps
 *   faults.c    the marker files' fault behaviours
 *   util.c      messages (Info/Warning/Error/Fatal), small helpers
 *
 * GUEST SELECTION (by the kernel file, as with the real lkvm)
 *  - the test guest (itests/guest, recognised by the signature
 *    "KVMTOOL-MANAGER-TEST-GUEST/V"): emulated exactly: "GUEST READY\r\n",
 *    touches the RAM above 1 MiB, echoes every byte, 'q' -> "GUEST
 *    POWEROFF\r\n" and an i8042 reset (lkvm ends normally, exit 0). From
 *    version 2, Ctrl-F (0x06), decimal digits N and one more byte (both
 *    swallowed) make it write N bytes (N mod 2^32; none or 0: 1 MiB), byte i
 *    being "0-9a-zA-Z\r\n"[i % 64], byte for byte what the real lkvm
 *    writes; input waits meanwhile. Version 1 echoes Ctrl-F.
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
 *                            newest test guest (banner, RAM touch, echo,
 *                            'q', Ctrl-F).
 *      crash-after-ms=N      lkvm dies of SIGSEGV N ms after start
 *      flood=N               the guest writes N bytes to the console after
 *                            its banner (the flood command's pattern)
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
 * HOST DEVICES (devices.c), opened for real with lkvm's calls, so that the
 * kernel grants or refuses them as it does for lkvm (same user, same
 * namespace), with lkvm's messages and exit codes:
 *  - -n mode=tap[,tapif=NAME][,guest_mac=MAC]: open /dev/net/tun, TUNSETIFF
 *    with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR and NAME (none: the kernel's next
 *    tapN), TUNSETOFFLOAD; the descriptor is held until the process ends (a
 *    tap that did not exist lives as long). tapif=/path opens a macvtap
 *    device, fd=N uses a given descriptor. Refused (EPERM for a tap of
 *    another uid or group, or a new tap without CAP_NET_ADMIN; EBUSY for a
 *    tap in use; EINVAL for a multi-queue tap, a tun or another device):
 *      "  Warning: Config tap device error. Are you root?"
 *      "You have requested a TAP device, but creation of one has failed
 *       because: <strerror>", exit 1, the IPC socket left behind.
 *    script= never runs (lkvm runs it when the guest's virtio-net driver
 *    starts the NIC; no guest here has one); downscript= runs at the normal
 *    end with the tap's name ("  Warning: Fail to setup tap by PATH" when it
 *    exits non-zero). vhost=1 opens /dev/vhost-net ("Failed openning
 *    vhost-net device: <strerror>", exit 1).
 *  - --vsock CID: open /dev/vhost-vsock, VHOST_SET_OWNER, VHOST_SET_MEM_TABLE,
 *    VHOST_VSOCK_SET_GUEST_CID; the CID is held until the process ends.
 *    Failures: "Failed opening vhost-vsock device: <strerror>",
 *    "VHOST_SET_OWNER failed: ...", "VHOST_VSOCK_SET_GUEST_CID failed:
 *    <strerror>" (EADDRINUSE: CID in use), exit 1.
 *  - --hugetlbfs DIR: guest RAM is a private mapping of an unlinked file in
 *    DIR (the huge pages are reserved at mmap). Failures, exit 128:
 *    "  Fatal: Can't stat DIR", "  Fatal: DIR is not hugetlbfs!", "  Fatal:
 *    Can't use hugetlbfs pagesize P for mem size S" (a page larger than the
 *    RAM), "  Fatal: Can't open DIR/kvmtoolXXXXXX for hugetlbfs map" (each
 *    followed by a blank line), "  Fatal: out of memory" (not enough huge
 *    pages, or the mount's size= limit).
 *
 * Known differences: no KVM is used, so the kernel task kvm-nx-lpage-re
 * is absent; VFIO and framebuffers are accepted and not created; `setup`
 * and `sandbox` are not emulated.
 */
#ifndef LKVM_STANDIN_H
#define LKVM_STANDIN_H

#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

#define VERSION "3.18.0"
#define MB_SHIFT 20
#define TERM_MAX_DEVS 4
#define HUGETLBFS_MAGIC_NR 0x958458f6
/* x86: guest RAM from 3.25 GiB up lies above 4 GiB; lkvm maps the 768 MiB hole too */
#define GAP_SIZE (768ull << 20)
#define GAP_START ((1ull << 32) - GAP_SIZE)
#define TEST_GUEST_SIGNATURE "KVMTOOL-MANAGER-TEST-GUEST/"	/* + its version */
#define TEST_GUEST_VERSION 2			/* the newest one emulated */
#define TEST_GUEST_FLOOD 0x06			/* Ctrl-F: the flood command (version 2) */
#define TEST_GUEST_FLOOD_DEFAULT (1u << 20)
#define MARKER "KVMTOOL-STANDIN"

/* util.c: lkvm writes " " + "<level>: " + text to stderr */
enum { LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
extern int loglevel;
void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...);
void __attribute__((format(printf, 1, 2))) pr_err(const char *fmt, ...);
void __attribute__((format(printf, 1, 2))) pr_warning(const char *fmt, ...);
void __attribute__((format(printf, 1, 2))) pr_info(const char *fmt, ...);
void __attribute__((noreturn)) die_perror(const char *s);
void __attribute__((noreturn)) init_failed(const char *what);
ssize_t write_all(int fd, const void *buf, size_t len);
ssize_t read_all(int fd, void *buf, size_t len);
u64 now_ns(void);
void sleep_ms(long ms);
void set_thread_name(const char *name);

/* options.c: lkvm's parse-options */
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

void __attribute__((noreturn)) usage_with_options(const char *const *usagestr, const struct option *opts);
int parse_options(int argc, const char **argv, const struct option *options,
		  const char *const *usagestr, bool keep_dashdash);

/* ipc.c: the wire protocol, the instance directory, client and server sides */
enum {
	IPC_BALLOON = 1, IPC_DEBUG, IPC_STAT, IPC_PAUSE, IPC_RESUME, IPC_STOP, IPC_PID, IPC_VMSTATE,
};
#define DEBUG_DUMP 1
#define DEBUG_NMI 2
#define DEBUG_SYSRQ 4

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

extern char kvm_dir[];		/* realpath of $HOME/.lkvm, with a trailing '/' */
void set_dir(void);
int get_sock_by_instance(const char *name);
int ipc_send(int fd, u32 type, u32 len, const void *msg);
int enumerate_instances(int (*cb)(const char *name, int fd));
int ipc_init(void);
void ipc_enable_balloon(void);
void ipc_exit(void);
int ioeventfd_init(void);
int epoll_worker_start(const char *name);

/* commands.c: the client commands */
int cmd_list(int argc, const char **argv);
int cmd_stop(int argc, const char **argv);
int cmd_pause(int argc, const char **argv);
int cmd_resume(int argc, const char **argv);
int cmd_debug(int argc, const char **argv);
int cmd_balloon(int argc, const char **argv);
int cmd_stat(int argc, const char **argv);
int cmd_help(void);
int cmd_version(void);
void client_command_usage(const char *cmd);

/* main.c: the configuration of `run` */
enum console_kind { CONSOLE_NONE, CONSOLE_8250, CONSOLE_VIRTIO, CONSOLE_HV };

struct disk {
	const char *filename;
	bool readonly;
	bool scsi;
};

extern struct run_cfg {
	const char *guest_name, *kernel, *initrd, *params, *firmware, *flash;
	const char *console, *dev, *sandbox, *hugetlbfs;
	int nrcpus, debug_iodelay, vidmode;
	u64 ram_size, vsock_cid;
	bool balloon, vnc, gtk, sdl, rng, nodefaults, no_dhcp, single_step, ioport_debug, mmio_debug;
	struct disk disks[4];
	int nr_disks;
	int nr_9p;
	bool using_rootfs, custom_rootfs;
	int num_net;		/* -n options that added a NIC */
	bool no_net;		/* -n mode=none given */
	enum console_kind active_console;
	const char *real_cmdline;
} cfg;

/* console.c: the UARTs as the guest sees them, the terminal as the host sees it */
int term_open_pty(int tty);
void console_init(void);
int serial_getc(void);		/* RBR read: a byte, 0x100 for a break, -1 if none */
bool serial_data_ready(void);
void serial_queue_sysrq(char c);
int vcons_getc(void);
void console_wait_input(long ns);
void guest_write(const void *buf, size_t len);
void guest_puts(const char *s);

/* guest.c: the machine and the guests */
enum guest_kind { GUEST_TEST, GUEST_LINUX, GUEST_SILENT };

extern struct guest {
	enum guest_kind kind;
	int version;		/* of the test guest: the number after its signature */
	bool bzimage;
	long crash_after_ms, poweroff_after_ms, socket_delay_ms, listen_delay_ms, handlers_delay_ms;
	long long flood;
	bool ignore_sigterm;
	int cpu_percent;
	const char *fail;
} guest;

extern unsigned char *ram;
extern u64 ram_size;
extern int nrcpus;
extern u64 start_ns;
ssize_t classify_kernel(int fd);
bool guest_has_virtio_drivers(void);
void vcpus_init(int n);
void vcpus_run(void);
void vcpus_exit(void);
void kvm_reboot(void);
void kvm_pause(void);
void kvm_continue(void);
void vcpu_nmi(u32 cpu);
void vcpus_dump(int fd);
void vcpus_dump_init(void);

/* devices.c: what lkvm opens on the host for RAM, vhost-vsock and NICs */
unsigned char *guest_ram_map(u64 size);
void vsock_init(void);
int netdev_parser(const struct option *opt, const char *arg, int unset);
void net_init(void);
bool net_has_nic(void);
void net_exit(void);

/* faults.c: the marker files */
void parse_marker(const char *line);
void faults_check_kvm_init(const char *kernel);
void faults_arm(void);
bool poweroff_due(void);

#endif
