/*
 * What lkvm opens on the host for its devices, opened for real with lkvm's calls, flags and messages, so
 * that the kernel decides success and failure as it does for lkvm:
 *  - guest RAM, anonymous or from a file in a hugetlbfs mount (--hugetlbfs, util/util.c);
 *  - vhost-vsock (--vsock CID, virtio/vsock.c): the device, its owner, memory table and guest CID;
 *  - NICs (-n, virtio/net.c): a tap through /dev/net/tun (TUNSETIFF with tapif or a new tapN), a macvtap
 *    path, or a descriptor given as fd=; held for the life of the process; vhost=1 opens /dev/vhost-net.
 *    The guests have no virtio-net driver, so script= never runs (lkvm runs it when the driver starts the
 *    device); downscript= runs at the normal end with the tap's name, as lkvm does.
 */
#include "lkvm-standin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/wait.h>

/* ---- guest RAM ---- */

static void *map_hugetlbfs(const char *dir, u64 size)
{
	char path[PATH_MAX];
	struct statfs fs;
	void *mem;
	int fd;

	if (statfs(dir, &fs) < 0)
		die("Can't stat %s\n", dir);
	if ((unsigned int)fs.f_type != HUGETLBFS_MAGIC_NR)
		die("%s is not hugetlbfs!\n", dir);
	if (fs.f_bsize == 0 || (unsigned long)fs.f_bsize > size)
		die("Can't use hugetlbfs pagesize %ld for mem size %lld\n", (long)fs.f_bsize, (long long)size);
	/* a private mapping of an unlinked file: the kernel reserves the huge pages at mmap (or refuses) */
	snprintf(path, sizeof(path), "%s/kvmtoolXXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		die("Can't open %s for hugetlbfs map\n", path);
	unlink(path);
	if (ftruncate(fd, size) < 0)
		die("Can't ftruncate for mem mapping size %lld\n", (long long)size);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	return mem;
}

/* lkvm's kvm__arch_init: the mapping holds the 32-bit hole of a large guest too */
unsigned char *guest_ram_map(u64 size)
{
	u64 mapped = size < GAP_START ? size : size + GAP_SIZE;
	void *mem;

	if (cfg.hugetlbfs)
		mem = map_hugetlbfs(cfg.hugetlbfs, mapped);
	else
		mem = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("out of memory");
	madvise(mem, mapped, MADV_MERGEABLE);
	return mem;
}

/* ---- vhost ---- */

/* virtio/vhost.c: the irq thread (once), then the owner and the guest's memory */
static void vhost_init(int fd)
{
	static bool poll_started;
	struct {
		struct vhost_memory head;
		struct vhost_memory_region region;
	} mem;

	if (!poll_started) {
		if (epoll_worker_start("vhost-irq-worker"))
			die("Unable to start vhost polling thread\n");
		poll_started = true;
	}
	memset(&mem, 0, sizeof(mem));
	mem.head.nregions = 1;
	mem.region.guest_phys_addr = 0;
	mem.region.memory_size = ram_size;
	mem.region.userspace_addr = (unsigned long)ram;
	if (ioctl(fd, VHOST_SET_OWNER) != 0)
		die_perror("VHOST_SET_OWNER failed");
	if (ioctl(fd, VHOST_SET_MEM_TABLE, &mem) != 0)
		die_perror("VHOST_SET_MEM_TABLE failed");
}

void vsock_init(void)
{
	u64 cid = cfg.vsock_cid;
	int fd;

	if (!cid)
		return;
	fd = open("/dev/vhost-vsock", O_RDWR);
	if (fd < 0)
		die_perror("Failed opening vhost-vsock device");
	vhost_init(fd);
	if (ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, &cid) != 0)
		die_perror("VHOST_VSOCK_SET_GUEST_CID failed");
	/* held until the process ends: the CID stays taken as long */
}

/* ---- NICs ---- */

struct nic {
	bool tap;		/* else user mode */
	const char *tapif, *downscript, *trans;
	int fd, vhost;
	char tap_name[IFNAMSIZ];
	int tap_fd;
};

static struct nic *nics;

/* one -n: "key=value,..." split on ',' and '=' as lkvm does; mode=none ends the option, adding nothing */
int netdev_parser(const struct option *opt, const char *arg, int unset)
{
	struct nic n = { .tap = true, .downscript = "none", .tap_fd = -1 };
	char *buf = NULL, *key = NULL, *tok;
	int i;

	(void)opt; (void)unset;
	if (arg)
		buf = strdup(arg);
	for (tok = buf ? strtok(buf, ",=") : NULL; tok; tok = strtok(NULL, ",=")) {
		if (!key) {
			key = tok;
			continue;
		}
		if (!strcmp(key, "mode")) {
			if (!strncmp(tok, "user", 4)) {
				for (i = 0; i < cfg.num_net; i++)
					if (!nics[i].tap)
						die("Only one usermode network device allowed at a time");
				n.tap = false;
			} else if (!strncmp(tok, "tap", 3)) {
				n.tap = true;
			} else if (!strncmp(tok, "none", 4)) {
				cfg.no_net = true;
				free(buf);
				return 0;
			} else {
				/* lkvm prints its not yet set default network here */
				die("Unknown network mode (null), please use user, tap or none");
			}
		} else if (!strcmp(key, "tapif")) {
			n.tapif = strdup(tok);
		} else if (!strcmp(key, "downscript")) {
			n.downscript = strdup(tok);
		} else if (!strcmp(key, "trans")) {
			n.trans = strdup(tok);
		} else if (!strcmp(key, "fd")) {
			n.fd = atoi(tok);
		} else if (!strcmp(key, "vhost")) {
			n.vhost = atoi(tok);
		} else if (strcmp(key, "guest_mac") && strcmp(key, "script") && strcmp(key, "guest_ip") &&
			   strcmp(key, "host_ip") && strcmp(key, "mq")) {
			/* the guest sees these (MAC, addresses, queues); script= runs when its driver starts */
			die("Unknown network parameter %s", key);
		}
		key = NULL;
	}
	free(buf);
	nics = realloc(nics, (cfg.num_net + 1) * sizeof(*nics));
	nics[cfg.num_net++] = n;
	return 0;
}

/* virtio/net.c's tap creation; false with errno set on failure, the warning printed */
static bool tap_open(struct nic *n)
{
	bool macvtap = n->tapif && n->tapif[0] == '/';
	int offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_UFO;
	struct ifreq ifr;

	if (n->fd) {
		n->tap_fd = n->fd;
	} else {
		const char *dev = macvtap ? n->tapif : "/dev/net/tun";

		n->tap_fd = open(dev, O_RDWR);
		if (n->tap_fd < 0) {
			pr_warning("Unable to open %s", dev);
			return false;
		}
	}
	if (!macvtap) {
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		if (n->tapif)
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", n->tapif);
		if (ioctl(n->tap_fd, TUNSETIFF, &ifr) < 0) {
			pr_warning("Config tap device error. Are you root?");
			goto fail;
		}
		snprintf(n->tap_name, sizeof(n->tap_name), "%s", ifr.ifr_name);
	}
	/* kernels without UFO refuse the first set: lkvm retries without it */
	if (ioctl(n->tap_fd, TUNSETOFFLOAD, offload) < 0 &&
	    ioctl(n->tap_fd, TUNSETOFFLOAD, offload & ~TUN_F_UFO) < 0) {
		pr_warning("Config tap device TUNSETOFFLOAD error");
		goto fail;
	}
	return true;
fail:
	/* as lkvm: a descriptor given with fd= is closed too */
	close(n->tap_fd);
	return false;
}

static void nic_init(struct nic *n)
{
	int fd;

	if (n->tap && !tap_open(n))
		die_perror("You have requested a TAP device, but creation of one has failed because");
	if (n->trans && strcmp(n->trans, "mmio") && strcmp(n->trans, "pci"))
		pr_warning("virtio-net: Unknown transport method : %s, falling back to %s.", n->trans, "pci");
	if (n->vhost) {
		fd = open("/dev/vhost-net", O_RDWR);
		if (fd < 0)
			die_perror("Failed openning vhost-net device");
		vhost_init(fd);
	}
}

/* virtio_net__init: the NICs in their order; with no -n at all, a user-mode NIC */
void net_init(void)
{
	static struct nic user;
	int i;

	for (i = 0; i < cfg.num_net; i++)
		nic_init(&nics[i]);
	if (!cfg.num_net && !cfg.no_net)
		nic_init(&user);
}

bool net_has_nic(void)
{
	return cfg.num_net > 0 || !cfg.no_net;
}

/* lkvm's vfork + execl of a tap script: "Fail to setup tap by" when it exits non-zero */
static void run_tap_script(const char *script, const char *tap)
{
	pid_t pid = vfork();
	int status;

	if (pid == 0) {
		execl(script, script, tap, (char *)NULL);
		_exit(1);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status))
		pr_warning("Fail to setup tap by %s", script);
}

/* at the normal end, before the IPC socket goes: each tap's downscript */
void net_exit(void)
{
	int i;

	for (i = 0; i < cfg.num_net; i++)
		if (nics[i].tap && strcmp(nics[i].downscript, "none"))
			run_tap_script(nics[i].downscript, nics[i].tap_name);
}
