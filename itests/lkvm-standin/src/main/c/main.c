/*
 * lkvm's command line: the `run` options and their parsers, the run sequence in lkvm's init order
 * (kvm__init, base, devices, vCPUs; teardown in reverse), and main's dispatch of the commands.
 */
#include "lkvm-standin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>

/* ---- run: configuration ---- */

struct run_cfg cfg;

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
	(void)opt; (void)unset;
	return term_open_pty(atoi(arg));
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
	wanted[3] = net_has_nic();
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

static long host_ram_pages(void)
{
	long n = sysconf(_SC_PHYS_PAGES);

	return n < 0 ? 0 : n;
}

static int cmd_run(int argc, const char **argv)
{
	static char default_name[20];
	static char real_cmdline[2048];
	int nr_online = sysconf(_SC_NPROCESSORS_ONLN), i, fd, ncpus;
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
	faults_check_kvm_init(cfg.kernel);
	ram_size = cfg.ram_size;
	ram = guest_ram_map(ram_size);
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
	ncpus = cfg.nrcpus;
	if (ncpus > 1024) {
		pr_warning("Limiting the number of CPUs to %d", 1024);
		ncpus = cfg.nrcpus = 1024;
	} else if (ncpus > nr_online) {
		pr_warning("The maximum recommended amount of VCPUs is %d", nr_online);
	}
	vcpus_init(ncpus < 1 ? 1 : ncpus);
	if (ipc_init() < 0)
		init_failed("kvm_ipc__init");
	if (ioeventfd_init())
		init_failed("ioeventfd__init");
	if (cfg.balloon)
		ipc_enable_balloon();

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
	console_init();
	/* virtio devices: vsock comes before net in lkvm's init list */
	vsock_init();
	net_init();
	if (nrcpus > 255)
		pr_warning("Too many cpus: %d limited to %d", nrcpus, 255);
	for (i = 0; i < nr_online; i++)
		pthread_create(&t, NULL, threadpool_worker, NULL);
	faults_arm();

	/* run */
	vcpus_run();

	/* teardown, in lkvm's order */
	vcpus_exit();
	print_compat_messages();
	net_exit();
	ipc_exit();
	pr_info("KVM session ended normally.");
	return 0;
}

static int help_command(const char *cmd)
{
	client_command_usage(cmd);
	if (!strcmp(cmd, "run") || !strcmp(cmd, "sandbox"))
		usage_with_options(run_usage, run_options);
	if (strcmp(cmd, "version") && strcmp(cmd, "--version") && strcmp(cmd, "help") && strcmp(cmd, "setup"))
		cmd_help();
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
		ret = cmd_pause(argc, args);
	else if (!strcmp(cmd, "resume"))
		ret = cmd_resume(argc, args);
	else if (!strcmp(cmd, "debug"))
		ret = cmd_debug(argc, args);
	else if (!strcmp(cmd, "balloon"))
		ret = cmd_balloon(argc, args);
	else if (!strcmp(cmd, "list"))
		ret = cmd_list(argc, args);
	else if (!strcmp(cmd, "version") || !strcmp(cmd, "--version"))
		ret = cmd_version();
	else if (!strcmp(cmd, "stop"))
		ret = cmd_stop(argc, args);
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
