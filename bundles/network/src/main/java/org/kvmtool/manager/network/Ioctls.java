package org.kvmtool.manager.network;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The kernel calls that make and unmake a tap: ioctls on /dev/net/tun (TUNSETIFF, TUNSETOWNER, TUNSETGROUP,
 * TUNSETPERSIST) and the SIOC* device ioctls on a datagram socket (MTU, hardware address, bridge port, flags),
 * as libvirt's virnetdevtap.c and virnetdevbridge.c do. The only class of the bundle that uses JNA, and the one
 * place where errno becomes an exception naming the call; plain Java types in and out, so it can move onto a
 * shared libc binding as it is.
 */
final class Ioctls {
    static final int EBUSY = 16;
    static final int EEXIST = 17;

    /** A failed call: the call with its arguments, and errno. */
    static final class Failure extends IOException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        Failure(String call, int errno, String text) {
            super(call + ": " + text + " (errno " + errno + ")");
            this.errno = errno;
        }

        int errno() {
            return errno;
        }
    }

    /** libc, for these calls only. ioctl is variadic: its third argument is a pointer or a value. */
    interface LibC extends Library {
        int open(String path, int flags);

        int close(int fd);

        int socket(int domain, int type, int protocol);

        int ioctl(int fd, NativeLong request, byte[] ifreq);

        int ioctl(int fd, NativeLong request, NativeLong value);

        String strerror(int errnum);
    }

    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;

    // <linux/if_tun.h>: _IOW('T', nr, int)
    private static final long TUNSETIFF = 0x400454caL;
    private static final long TUNSETPERSIST = 0x400454cbL;
    private static final long TUNSETOWNER = 0x400454ccL;
    private static final long TUNSETGROUP = 0x400454ceL;
    private static final short IFF_TAP = 0x0002;
    private static final short IFF_NO_PI = 0x1000;
    /** lkvm opens its tap with IFF_VNET_HDR: made the same, the tap's features need no change when it attaches. */
    private static final short IFF_VNET_HDR = 0x4000;
    private static final short IFF_TUN_EXCL = (short) 0x8000;

    // <linux/sockios.h>
    private static final long SIOCGIFFLAGS = 0x8913;
    private static final long SIOCSIFFLAGS = 0x8914;
    private static final long SIOCSIFMTU = 0x8922;
    private static final long SIOCSIFHWADDR = 0x8924;
    private static final long SIOCGIFINDEX = 0x8933;
    private static final long SIOCBRADDIF = 0x89a2;
    private static final short IFF_UP = 0x1;
    private static final short ARPHRD_ETHER = 1;

    /** struct ifreq: the name (IFNAMSIZ), then a 24-byte union (flags, ifindex, mtu, sockaddr). */
    private static final int IFNAMSIZ = 16;
    private static final int IFREQ_BYTES = 40;

    private final LibC libc;

    Ioctls() {
        this.libc = Native.load("c", LibC.class);
    }

    /**
     * Creates the persistent tap {@code name}, owned by {@code uid}/{@code gid} (none when negative). False when
     * a device of that name exists already (IFF_TUN_EXCL): nothing is then changed.
     */
    boolean createTap(String name, int uid, int gid) throws Failure {
        int fd = check("open(/dev/net/tun)", libc.open("/dev/net/tun", O_RDWR | O_CLOEXEC));
        try {
            byte[] ifr = ifreq(name);
            ByteBuffer.wrap(ifr).order(ByteOrder.nativeOrder()).putShort(IFNAMSIZ,
                    (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL));
            if (libc.ioctl(fd, new NativeLong(TUNSETIFF), ifr) < 0) {
                int errno = Native.getLastError();
                if (errno == EBUSY || errno == EEXIST) {
                    return false;
                }
                throw failure("ioctl(TUNSETIFF, " + name + ")", errno);
            }
            if (uid >= 0) {
                value(fd, TUNSETOWNER, uid, "TUNSETOWNER, " + name);
            }
            if (gid >= 0) {
                value(fd, TUNSETGROUP, gid, "TUNSETGROUP, " + name);
            }
            value(fd, TUNSETPERSIST, 1, "TUNSETPERSIST, " + name);
            return true;
        } finally {
            libc.close(fd);
        }
    }

    /**
     * Removes a persistent tap: attach to it, drop persistence, close (the kernel unregisters it with its last
     * descriptor). EBUSY while another process (lkvm) still holds it.
     */
    void deleteTap(String name) throws Failure {
        int fd = check("open(/dev/net/tun)", libc.open("/dev/net/tun", O_RDWR | O_CLOEXEC));
        try {
            byte[] ifr = ifreq(name);
            ByteBuffer.wrap(ifr).order(ByteOrder.nativeOrder()).putShort(IFNAMSIZ, (short) (IFF_TAP | IFF_NO_PI));
            check("ioctl(TUNSETIFF, " + name + ")", libc.ioctl(fd, new NativeLong(TUNSETIFF), ifr));
            value(fd, TUNSETPERSIST, 0, "TUNSETPERSIST 0, " + name);
        } finally {
            libc.close(fd);
        }
    }

    void setMtu(String name, int mtu) throws Failure {
        byte[] ifr = ifreq(name);
        ByteBuffer.wrap(ifr).order(ByteOrder.nativeOrder()).putInt(IFNAMSIZ, mtu);
        device(SIOCSIFMTU, ifr, "SIOCSIFMTU " + mtu + ", " + name);
    }

    void setMac(String name, byte[] mac) throws Failure {
        byte[] ifr = ifreq(name);
        ByteBuffer b = ByteBuffer.wrap(ifr).order(ByteOrder.nativeOrder());
        b.putShort(IFNAMSIZ, ARPHRD_ETHER);
        b.position(IFNAMSIZ + 2);
        b.put(mac);
        device(SIOCSIFHWADDR, ifr, "SIOCSIFHWADDR, " + name);
    }

    /** Makes {@code port} a port of {@code bridge} (the kernel's brctl addif). */
    void addToBridge(String bridge, String port) throws Failure {
        byte[] idx = ifreq(port);
        device(SIOCGIFINDEX, idx, "SIOCGIFINDEX, " + port);
        int index = ByteBuffer.wrap(idx).order(ByteOrder.nativeOrder()).getInt(IFNAMSIZ);
        byte[] ifr = ifreq(bridge);
        ByteBuffer.wrap(ifr).order(ByteOrder.nativeOrder()).putInt(IFNAMSIZ, index);
        device(SIOCBRADDIF, ifr, "SIOCBRADDIF " + port + ", " + bridge);
    }

    void up(String name) throws Failure {
        byte[] ifr = ifreq(name);
        device(SIOCGIFFLAGS, ifr, "SIOCGIFFLAGS, " + name);
        ByteBuffer b = ByteBuffer.wrap(ifr).order(ByteOrder.nativeOrder());
        b.putShort(IFNAMSIZ, (short) (b.getShort(IFNAMSIZ) | IFF_UP));
        device(SIOCSIFFLAGS, ifr, "SIOCSIFFLAGS up, " + name);
    }

    private void device(long request, byte[] ifr, String call) throws Failure {
        int sock = check("socket(AF_UNIX, SOCK_DGRAM)", libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        try {
            check("ioctl(" + call + ")", libc.ioctl(sock, new NativeLong(request), ifr));
        } finally {
            libc.close(sock);
        }
    }

    private void value(int fd, long request, long value, String call) throws Failure {
        check("ioctl(" + call + ")", libc.ioctl(fd, new NativeLong(request), new NativeLong(value)));
    }

    private static byte[] ifreq(String name) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        if (n.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name longer than " + (IFNAMSIZ - 1) + " bytes: " + name);
        }
        byte[] ifr = new byte[IFREQ_BYTES];
        System.arraycopy(n, 0, ifr, 0, n.length);
        return ifr;
    }

    private int check(String call, int rc) throws Failure {
        if (rc < 0) {
            throw failure(call, Native.getLastError());
        }
        return rc;
    }

    private Failure failure(String call, int errno) {
        String text = libc.strerror(errno);
        return new Failure(call, errno, text == null ? "unknown error" : text);
    }
}
