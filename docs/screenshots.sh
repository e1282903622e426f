#!/usr/bin/env bash
#
# Regenerates the README's screenshots in docs/screenshots/ from the real thing:
#  - Hawtio's kvmtool tab in headless Chromium: the browser tests' own scenarios
#    (itests/karaf/src/test/browser/hawtio-dashboard.mjs, as admin, then as viewer; hawtio-terminal.mjs, the
#    console's terminal, as admin, then as viewer);
#  - the JDK's JConsole under Xvfb, logged in to Karaf's RMI connector as admin (credentials typed into its
#    New Connection dialog with xdotool), on the MBeans tab: kvmtool > Domain > alpha > Attributes.
#
# It unpacks the built distribution into a temporary folder, runs it with the lkvm stand-in and the test
# guest, defines the domains alpha and beta, and stops and removes everything at the end.
#
# Needs: the build (mvn -B -ntp -DskipTests package), and Debian's chromium, xvfb, xdotool, imagemagick,
# node and npm (playwright-core comes from the npm registry, pinned by the committed lock file), curl, and
# the JDK's jconsole.
#
# Usage: docs/screenshots.sh            (CHART_SECONDS=60 by default: how long the charts fill)
#
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/docs/screenshots
browser_src=$root/itests/karaf/src/test/browser
standin=$root/itests/lkvm-standin/target/lkvm
guest=$root/itests/guest/target/guest.bin
chart_seconds=${CHART_SECONDS:-60}

say() { printf '== %s\n' "$*"; }
die() { printf 'screenshots.sh: %s\n' "$*" >&2; exit 1; }

for tool in curl node npm Xvfb xdotool import jconsole; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install chromium xvfb xdotool imagemagick curl nodejs npm; a JDK for jconsole)"
done
chromium=${KVMTOOL_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || die "no Chromium at $chromium (apt-get install chromium, or set KVMTOOL_CHROMIUM)"
dist=$(ls "$root"/karaf-assembly/target/kvmtool-manager-*.tar.gz 2>/dev/null | head -n 1 || true)
[ -n "$dist" ] && [ -x "$standin" ] && [ -f "$guest" ] || die "build first: mvn -B -ntp -DskipTests package"

# A short folder: lkvm's socket paths must fit in 107 bytes.
work=$(mktemp -d /tmp/kvmtool-shots.XXXXXX)
karaf_pid=''; xvfb_pid=''; jconsole_pid=''
cleanup() {
    set +e
    [ -n "$jconsole_pid" ] && kill "$jconsole_pid" 2>/dev/null
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
    if [ -n "$karaf_pid" ]; then
        "$karaf/bin/stop" >/dev/null 2>&1
        for _ in $(seq 60); do kill -0 "$karaf_pid" 2>/dev/null || break; sleep 0.5; done
        # bin/karaf runs java as its child: end that process by its id if bin/stop did not
        for child in $(pgrep -P "$karaf_pid"); do kill -9 "$child" 2>/dev/null; done
        kill "$karaf_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
# Karaf's usual ports when they are free (the JConsole screenshot then shows the README's URL), others if not.
pick_port() {
    local port=$1
    while listening "$port"; do port=$((20000 + RANDOM % 20000)); done
    echo "$port"
}
http_port=$(pick_port 8181); ssh_port=$(pick_port 8101)
rmi_registry_port=$(pick_port 1099); rmi_server_port=$(pick_port 44444)
admin_password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
viewer_password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

say "distribution $(basename "$dist") in $work; HTTP $http_port, RMI $rmi_registry_port/$rmi_server_port"
tar -xzf "$dist" -C "$work"
karaf=$(ls -d "$work"/kvmtool-manager-*/)
karaf=${karaf%/}

# key = value in a Karaf properties file: replace the line, or add it
set_property() {
    local file=$1 key=$2 value=$3
    if grep -qE "^[[:space:]]*$key[[:space:]]*=" "$file"; then
        sed -i -E "s|^[[:space:]]*$key[[:space:]]*=.*|$key = $value|" "$file"
    else
        printf '%s = %s\n' "$key" "$value" >> "$file"
    fi
}
etc=$karaf/etc
set_property "$etc/users.properties" admin "$admin_password,admin,manager,viewer,systembundles,ssh"
set_property "$etc/users.properties" viewer "$viewer_password,viewer"
set_property "$etc/org.ops4j.pax.web.cfg" org.osgi.service.http.port "$http_port"
set_property "$etc/org.apache.karaf.shell.cfg" sshPort "$ssh_port"
set_property "$etc/org.apache.karaf.management.cfg" rmiRegistryPort "$rmi_registry_port"
set_property "$etc/org.apache.karaf.management.cfg" rmiServerPort "$rmi_server_port"
for policy in "$etc"/jolokia-access.xml "$etc"/hawtio-jolokia-access.xml; do
    [ -f "$policy" ] && sed -i "s/:8181/:$http_port/g" "$policy"
done
set_property "$etc/org.kvmtool.manager.cfg" uri 'kvmtool:///session'
set_property "$etc/org.kvmtool.manager.cfg" lkvm.binary "$standin"
for dir in config run log; do
    set_property "$etc/org.kvmtool.manager.cfg" "$dir.dir" "$work/$dir"
done

# The guest's path shows in its console and definition: a copy in the temporary folder keeps the
# screenshots free of this checkout's location.
cp "$guest" "$work/guest.bin"
guest=$work/guest.bin

say "starting Karaf"
"$karaf/bin/karaf" server > "$work/karaf.out" 2>&1 &
karaf_pid=$!

base=http://127.0.0.1:$http_port
jolokia() {   # POST one Jolokia request (JSON) to /jolokia as admin
    curl -s -u "admin:$admin_password" -H 'Content-Type: application/json' -d "$1" "$base/jolokia/"
}
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: until the command succeeds
    local seconds=$1 what=$2; shift 2
    for _ in $(seq $((seconds * 2))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    die "$what did not happen within $seconds s (see $work/karaf.out and $karaf/data/log/karaf.log)"
}
manager_up() { jolokia '{"type":"read","mbean":"kvmtool:type=Manager","attribute":"DomainNames"}' | grep -q '"status":200'; }
hawtio_up() { curl -sf "$base/hawtio/plugin" | grep -q '"kvmtool"'; }
wait_for 240 "the manager answering over Jolokia" manager_up
wait_for 300 "Hawtio serving the kvmtool plugin" hawtio_up

state() { jolokia "{\"type\":\"read\",\"mbean\":\"kvmtool:type=Domain,name=$1\",\"attribute\":\"State\"}" | grep -o '"value":"[a-z]*"' | cut -d'"' -f4; }
for name in alpha beta; do
    xml="<domain type='kvmtool'><name>$name</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type><kernel>$guest</kernel></os><devices><console type='pty'><target type='serial'/></console></devices></domain>"
    jolokia "{\"type\":\"exec\",\"mbean\":\"kvmtool:type=Manager\",\"operation\":\"defineDomain(java.lang.String)\",\"arguments\":[\"$xml\"]}" | grep -q '"status":200' \
        || die "defining $name failed"
done

say "Hawtio in headless Chromium (the browser tests' scenarios)"
mkdir -p "$work/browser" "$out"
cp "$browser_src"/package.json "$browser_src"/package-lock.json "$browser_src"/common.mjs \
    "$browser_src"/hawtio-dashboard.mjs "$browser_src"/hawtio-terminal.mjs "$work/browser/"
(cd "$work/browser" && npm ci --no-audit --no-fund --loglevel=error)
run_scenario() {   # run_scenario SCRIPT USER PASSWORD SCENARIO
    (cd "$work/browser" && KVMTOOL_BASE_URL=$base KVMTOOL_USER=$2 KVMTOOL_PASSWORD=$3 KVMTOOL_SCREENSHOTS=$out \
        KVMTOOL_VIEWER_PASSWORD=$viewer_password KVMTOOL_CHART_SECONDS=$chart_seconds KVMTOOL_CHROMIUM=$chromium \
        node "$1" "$4")
}
run_scenario hawtio-dashboard.mjs admin "$admin_password" admin
run_scenario hawtio-dashboard.mjs viewer "$viewer_password" viewer
# the terminal's admin scenario starts alpha (shut off by the dashboard's) and leaves it running for the viewer's
run_scenario hawtio-terminal.mjs admin "$admin_password" admin
run_scenario hawtio-terminal.mjs viewer "$viewer_password" viewer
jolokia '{"type":"exec","mbean":"kvmtool:type=Domain,name=alpha","operation":"destroy()"}' | grep -q '"status":200' || die "destroying alpha failed"

say "JConsole under Xvfb"
jolokia '{"type":"exec","mbean":"kvmtool:type=Domain,name=alpha","operation":"start()"}' | grep -q '"status":200' || die "starting alpha failed"
display_number=$((90 + RANDOM % 100))
while [ -e "/tmp/.X11-unix/X$display_number" ] || [ -e "/tmp/.X$display_number-lock" ]; do display_number=$((display_number + 1)); done
display=:$display_number
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp > "$work/xvfb.out" 2>&1 &
xvfb_pid=$!
export DISPLAY=$display
sleep 2
# JConsole has no window manager here: its window is placed at a fixed spot, so that the offsets below
# (measured once, relative to the window) hold; each step waits for what the screen shows, by pixel.
jconsole_window() { xdotool search --name 'Java Monitoring & Management Console' 2>/dev/null | head -n 1; }
jconsole_up() { [ -n "$(jconsole_window)" ]; }
pixels() {   # pixels X Y W H: "x,y #RRGGBB" lines of a region of the JConsole window
    import -window "$window" -crop "$3x$4+$1+$2" -depth 8 txt:- 2>/dev/null \
        | awk 'NR > 1 { sub(":", "", $1); print $1, $3 }'
}
# rgb_any CONDITION: true when some pixel read on stdin ("x,y #RRGGBB") meets the condition on r, g and b
rgb_any() {
    local xy color r g b
    while read -r xy color; do
        r=$((16#${color:1:2})); g=$((16#${color:3:2})); b=$((16#${color:5:2}))
        if (( $1 )); then return 0; fi
    done
    return 1
}
# a warning dialog's yellow triangle, in the band where JConsole's dialogs put it
warning_shown() { pixels 100 64 700 8 | rgb_any 'r > 220 && g > 210 && b < 190'; }
# the connection icon at the right of the tab row is green once connected
connected() { pixels 881 58 1 1 | rgb_any 'g > r + 40 && g > b + 40'; }
# the New Connection dialog's Remote Process field is white
dialog_shown() { pixels 460 496 1 1 | grep -qi '#FFFFFF'; }
click() { xdotool mousemove $((190 + $1)) $((25 + $2)) click 1; sleep "${3:-1}"; }
within() {   # within SECONDS COMMAND...: true once the command succeeds
    local seconds=$1; shift
    for _ in $(seq $((seconds * 2))); do "$@" && return 0; sleep 0.5; done
    return 1
}
url="service:jmx:rmi://127.0.0.1:$rmi_server_port/jndi/rmi://127.0.0.1:$rmi_registry_port/karaf-root"
jconsole_session() {
    jconsole -J-Djava.awt.headless=false > "$work/jconsole.out" 2>&1 &
    jconsole_pid=$!
    within 90 jconsole_up || return 1
    window=$(jconsole_window)
    xdotool windowmove "$window" 190 25 windowsize "$window" 900 750
    within 60 dialog_shown || return 1
    click 460 496                           # New Connection: the Remote Process field
    xdotool type --delay 15 "$url"
    xdotool key alt+u; xdotool type --delay 15 admin
    xdotool key alt+p; xdotool type --delay 15 "$admin_password"
    xdotool key Return                      # Connect
    within 90 warning_shown || return 1     # "Secure connection failed. Retry insecurely?"
    click 363 185                           # Insecure connection
    within 120 connected || return 1
    sleep 2
    click 472 58 4                          # the MBeans tab
    click 80 81                             # the tree; type-ahead to kvmtool > Domain > alpha > Attributes
    xdotool type --delay 60 kvmtool; sleep 0.5
    for key in Right Down Right Down Right Down Return; do xdotool key "$key"; sleep 0.5; done
    sleep 3
    connected
}
ok=''
for attempt in 1 2 3; do
    if jconsole_session; then ok=yes; break; fi
    say "JConsole attempt $attempt did not get through; again"
    import -window root "$work/jconsole-attempt-$attempt.png" 2>/dev/null || true
    kill "$jconsole_pid" 2>/dev/null; wait "$jconsole_pid" 2>/dev/null || true; jconsole_pid=''
done
[ -n "$ok" ] || die "JConsole did not connect (see $work/jconsole.out)"
import -window "$window" "$out/jconsole-mbeans.png"
say "wrote $out/jconsole-mbeans.png"

# Smaller files for the repository: 256-colour PNGs read the same for screenshots of text.
if command -v convert >/dev/null && convert -version 2>/dev/null | grep -q ImageMagick; then
    for png in "$out"/*.png; do
        convert "$png" -strip -colors 256 "PNG8:$png.tmp" && mv "$png.tmp" "$png"
    done
fi
rm -f "$out"/failure-*.png
ls -l "$out"
