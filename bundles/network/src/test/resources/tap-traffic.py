# Plays a guest on a tap and a host on its bridge: attaches to TAP (as lkvm does, TUNSETIFF), writes N frames
# into it (what a guest sends: the tap's rx), then sends N broadcast frames on BRIDGE through a packet socket
# and reads them from the tap (the bridge floods them to its ports; a tap counts tx when its reader takes a
# frame, as lkvm does for a guest). Prints "sent N, received M".
# With --flood-only, lkvm holds the tap: only the N frames on the bridge are sent, once the port forwards.
import fcntl, os, select, socket, struct, sys, time

tap, bridge, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
flood_only = '--flood-only' in sys.argv[4:]
TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454ca, 0x0002, 0x1000
payload = b'kvmtool-manager test frame'.ljust(46, b'\0')
ethertype = b'\x88\xb5'  # IEEE local experimental
if not flood_only:
    fd = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH22x', tap.encode(), IFF_TAP | IFF_NO_PI))
    guest = b'\xff' * 6 + bytes.fromhex('525400feed01') + ethertype + payload
    for _ in range(n):
        os.write(fd, guest)
# the bridge forwards to the port once it sees the tap's carrier: the kernel tells it through its link
# watch, which may take a second
state = '/sys/class/net/%s/brport/state' % tap
deadline = time.time() + 10
while open(state).read().strip() != '3' and time.time() < deadline:  # BR_STATE_FORWARDING
    time.sleep(0.05)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((bridge, 0))
host = b'\xff' * 6 + bytes.fromhex('020000beef01') + ethertype + payload
for _ in range(n):
    s.send(host)
if flood_only:
    print('sent %d' % n)
    sys.exit(0)
received = 0
deadline = time.time() + 10
while received < n and time.time() < deadline:
    if select.select([fd], [], [], 0.5)[0] and os.read(fd, 2048)[12:14] == ethertype:
        received += 1
s.close()
os.close(fd)
print('sent %d, received %d' % (n, received))
sys.exit(0 if received == n else 1)
