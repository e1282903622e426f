package org.kvmtool.manager.network;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

import org.kvmtool.manager.api.DomainDefinition.NetInterface;
import org.kvmtool.manager.api.DomainDefinition.NetType;
import org.kvmtool.manager.api.DomainDefinition.Vsock;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.InterfaceStats;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.NetworkService;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * Taps made for guests, as libvirt's qemu driver makes them for {@code type='bridge'} and managed
 * {@code type='ethernet'}: persistent (lkvm opens a tap by name, as an unprivileged user, so the tap must
 * exist and be its own before lkvm runs), owned by lkvm's user, with the bridge's MTU (so adding the port does
 * not lower the bridge's), on the bridge, up. Their alias ({@code ip link} shows it) marks who made them:
 * {@code kvmtool-manager DOMAIN OWNER}. A tap is removed only by the owner that made it.
 *
 * <p>Generated names are {@code kvmtapN}, not libvirt's {@code vnetN}: a libvirtd on the same host treats vnetN
 * as its own (it drops such names from inactive definitions and reuses the numbers), and an operator reading
 * {@code ip link} sees whose tap it is. Every tap is created with IFF_TUN_EXCL, so two starts (of this or of
 * another manager) can never share one: the loser takes the next number. A definition that names a
 * {@code kvmtapN} (a live definition redefined as it was dumped) gets a free one when that is taken, as libvirt
 * forgets vnetN.
 */
// immediate: infrastructure outlives the driver (a delayed component would be rebuilt with each driver update)
@Component(service = NetworkService.class, immediate = true)
public final class TapNetworkService implements NetworkService {
    private static final Logger LOG = Logger.getLogger(TapNetworkService.class.getName());
    static final String PREFIX = "kvmtap";
    private static final Pattern GENERATED = Pattern.compile(PREFIX + "\\d{1,9}");
    private static final String MARK = "kvmtool-manager ";
    private static final int MAX_GENERATED = 100_000;
    /** How long a held tap is waited for before its removal is given up (logged): 1 s. */
    private static final int BUSY_RETRIES = 20;
    private static final long BUSY_RETRY_MILLIS = 50;

    private final SysNet sys;
    private final Ioctls ioctls;
    private final VsockCids cids;

    @Activate
    public TapNetworkService() {
        this(Path.of("/sys/class/net"), Path.of("/proc"), Path.of("/dev/vhost-vsock"), new Ioctls());
    }

    TapNetworkService(Path sysClassNet, Path procDir, Path vhostVsock, Ioctls ioctls) {
        this.sys = new SysNet(sysClassNet);
        this.ioctls = ioctls;
        this.cids = new VsockCids(procDir, vhostVsock);
    }

    @Override
    public List<NetInterface> prepare(String domain, String owner, List<NetInterface> interfaces, int uid, int gid) {
        if (owner == null || owner.isBlank()) {
            throw new IllegalArgumentException("a blank owner");
        }
        // everything that can be refused is refused before anything is made
        for (int i = 0; i < interfaces.size(); i++) {
            check(domain, i, interfaces.get(i), uid);
        }
        List<NetInterface> out = new ArrayList<>();
        List<String> made = new ArrayList<>();
        try {
            for (int i = 0; i < interfaces.size(); i++) {
                NetInterface nic = interfaces.get(i);
                if (!nic.hasTap() || !nic.managed()) {
                    out.add(nic);
                    continue;
                }
                String tap = create(domain, i, nic.tapDevice(), uid, gid);
                made.add(tap);
                setUp(domain, i, owner, nic, tap);
                out.add(nic.withTap(tap));
            }
        } catch (RuntimeException e) {
            for (String tap : made) {
                delete(domain, tap);
            }
            throw e;
        }
        if (!made.isEmpty()) {
            LOG.info(() -> domain + ": taps " + made + " made");
        }
        return out;
    }

    private void check(String domain, int i, NetInterface nic, int uid) {
        if (!nic.hasTap()) {
            return;
        }
        if (!nic.managed()) {
            String tap = nic.tapDevice();
            if (!sys.exists(tap)) {
                throw refusal(ErrorCode.OPERATION_INVALID, domain, i, "tap '" + tap + "' does not exist (managed='no' uses an "
                        + "existing tap; without it, the manager makes one)");
            }
            return;
        }
        if (uid < 0) {
            throw refusal(ErrorCode.CONFIG_UNSUPPORTED, domain, i, "kvmtool:///session cannot make taps: lkvm runs as the "
                    + "manager's own user, which may not create network devices; use kvmtool:///system, or an existing tap "
                    + "(<interface type='ethernet'><target dev='TAP' managed='no'/>)");
        }
        if (nic.type() == NetType.BRIDGE) {
            if (!sys.exists(nic.bridge())) {
                throw refusal(ErrorCode.OPERATION_INVALID, domain, i, "bridge '" + nic.bridge() + "' does not exist");
            }
            if (!sys.isBridge(nic.bridge())) {
                throw refusal(ErrorCode.OPERATION_INVALID, domain, i, "'" + nic.bridge() + "' is not a Linux bridge");
            }
        }
        String tap = nic.tapDevice();
        if (tap != null && !GENERATED.matcher(tap).matches() && sys.exists(tap)) {
            throw existing(domain, i, tap);
        }
    }

    /** Makes the tap: the name asked for, else (or when a generated one is taken) the lowest free kvmtapN. */
    private String create(String domain, int i, String wanted, int uid, int gid) {
        try {
            if (wanted != null) {
                if (ioctls.createTap(wanted, uid, gid)) {
                    return wanted;
                }
                if (!GENERATED.matcher(wanted).matches()) {
                    throw existing(domain, i, wanted); // made meanwhile by someone else
                }
            }
            for (int n = 0; n < MAX_GENERATED; n++) {
                String name = PREFIX + n;
                if (!sys.exists(name) && ioctls.createTap(name, uid, gid)) {
                    return name;
                }
            }
            throw refusal(ErrorCode.OPERATION_FAILED, domain, i, "no free tap name " + PREFIX + "0.." + (MAX_GENERATED - 1));
        } catch (Ioctls.Failure e) {
            throw failed(domain, i, "cannot create a tap", e);
        }
    }

    private void setUp(String domain, int i, String owner, NetInterface nic, String tap) {
        String step = "mark";
        try {
            sys.setAlias(tap, MARK + domain + " " + owner);
            if (nic.mac() != null) {
                step = "set the MAC address of";
                ioctls.setMac(tap, hostMac(nic.mac()));
            }
            if (nic.type() == NetType.BRIDGE) {
                step = "set the MTU of";
                ioctls.setMtu(tap, sys.mtu(nic.bridge()));
                step = "put on bridge " + nic.bridge();
                ioctls.addToBridge(nic.bridge(), tap);
            }
            step = "bring up";
            ioctls.up(tap);
        } catch (IOException e) {
            throw failed(domain, i, "cannot " + step + " tap " + tap, e);
        }
    }

    /**
     * The tap's own address: the guest's with its first byte 0xFE, as libvirt sets it. A Linux bridge takes the
     * lowest address of its ports as its own; FE: is never the lowest, so a guest's coming and going does not
     * change the bridge's address (and with it the host's neighbours' caches).
     */
    static byte[] hostMac(String guestMac) {
        String[] parts = guestMac.split(":");
        byte[] mac = new byte[6];
        for (int k = 0; k < 6; k++) {
            mac[k] = (byte) Integer.parseInt(parts[k], 16);
        }
        mac[0] = (byte) 0xfe;
        return mac;
    }

    @Override
    public void release(String owner, List<NetInterface> interfaces) {
        for (NetInterface nic : interfaces) {
            String tap = nic.tapDevice();
            if (!nic.hasTap() || !nic.managed() || tap == null || !sys.exists(tap)) {
                continue;
            }
            Mark mark = Mark.parse(sys.alias(tap));
            if (mark == null || !mark.owner().equals(owner)) {
                LOG.fine(() -> "tap " + tap + " is not " + owner + "'s: left alone");
                continue;
            }
            delete(mark.domain(), tap);
        }
    }

    @Override
    public List<String> removeOrphans(String ownerPrefix, Set<String> liveOwners) {
        List<String> removed = new ArrayList<>();
        for (String name : sys.names()) {
            Mark mark = Mark.parse(sys.alias(name));
            if (mark != null && mark.owner().startsWith(ownerPrefix) && !liveOwners.contains(mark.owner()) && sys.isTap(name)) {
                LOG.info(() -> "removing tap " + name + " of domain '" + mark.domain() + "': no run of this manager owns it");
                if (delete(mark.domain(), name)) {
                    removed.add(name);
                }
            }
        }
        return removed;
    }

    @Override
    public InterfaceStats stats(NetInterface nic) {
        if (!nic.hasTap()) {
            throw new KvmtoolException(ErrorCode.NO_SUPPORT, "user-mode networking has no host device to count");
        }
        String tap = nic.tapDevice();
        if (tap == null || !sys.exists(tap)) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, "tap '" + tap + "' does not exist");
        }
        try {
            // the tap's transmit side is what reached the guest: swapped, as libvirt swaps a tap's counters
            return new InterfaceStats(tap, nic.mac(),
                    sys.counter(tap, "tx_bytes"), sys.counter(tap, "tx_packets"), sys.counter(tap, "tx_errors"),
                    sys.counter(tap, "tx_dropped"),
                    sys.counter(tap, "rx_bytes"), sys.counter(tap, "rx_packets"), sys.counter(tap, "rx_errors"),
                    sys.counter(tap, "rx_dropped"));
        } catch (IOException | NumberFormatException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot read the counters of tap '" + tap + "': " + e.getMessage(), e);
        }
    }

    @Override
    public long acquireVsock(String domain, String owner, Vsock vsock) {
        return cids.acquire(domain, owner, vsock);
    }

    @Override
    public void releaseVsock(String owner) {
        cids.release(owner);
    }

    /**
     * True if removed (or gone); failures are logged, never thrown. A tap still held is waited for a little: a
     * killed lkvm's leader is a zombie (and /proc says it ended) while its other threads still close its files.
     */
    private boolean delete(String domain, String tap) {
        for (int attempt = 0; ; attempt++) {
            try {
                ioctls.deleteTap(tap);
                return true;
            } catch (Ioctls.Failure e) {
                if (!sys.exists(tap)) {
                    return true;
                }
                if (e.errno() == Ioctls.EBUSY && attempt < BUSY_RETRIES) {
                    sleep(BUSY_RETRY_MILLIS);
                    continue;
                }
                String why = e.errno() == Ioctls.EBUSY ? " (a process, lkvm?, still holds it)" : "";
                LOG.log(Level.WARNING, domain + ": cannot remove tap " + tap + why + ": " + e.getMessage(), e);
                return false;
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The alias of a tap this service made. */
    record Mark(String domain, String owner) {
        static Mark parse(String alias) {
            if (!alias.startsWith(MARK)) {
                return null;
            }
            String rest = alias.substring(MARK.length());
            int space = rest.indexOf(' ');
            return space <= 0 || space == rest.length() - 1 ? null : new Mark(rest.substring(0, space), rest.substring(space + 1));
        }
    }

    private static KvmtoolException existing(String domain, int i, String tap) {
        return refusal(ErrorCode.OPERATION_INVALID, domain, i, "tap '" + tap + "' exists already; the manager makes its own "
                + "(to use this one as it is, say <target dev='" + tap + "' managed='no'/> in an <interface type='ethernet'>)");
    }

    private static KvmtoolException refusal(ErrorCode code, String domain, int i, String why) {
        return new KvmtoolException(code, "domain '" + domain + "', interface " + (i + 1) + ": " + why);
    }

    private static KvmtoolException failed(String domain, int i, String what, IOException e) {
        return new KvmtoolException(ErrorCode.SYSTEM_ERROR, "domain '" + domain + "', interface " + (i + 1) + ": " + what
                + ": " + e.getMessage(), e);
    }
}
