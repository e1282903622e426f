package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Before;
import org.junit.Test;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Issue #14 in the distribution: the stock virsh (Debian's libvirt-clients) against the running manager with
 * the lkvm stand-in, over the RPC sockets this container listens on (etc/org.kvmtool.manager.rpc.cfg, inside
 * the run's work directory, so parallel or leftover instances never collide). Skipped, saying so, where
 * /usr/bin/virsh is absent.
 */
public class VirshIT extends GuestTestSupport {

    static final Path VIRSH = Path.of("/usr/bin/virsh");
    /** Where plain `virsh -c kvmtool:///system` looks first (libvirt-rpc-facts.md, section 8). */
    static final Path DEFAULT_SOCKET = Path.of("/var/run/libvirt/virtkvmtoold-sock");

    @Before
    public void virshIsInstalled() {
        if (!Files.isExecutable(VIRSH)) {
            System.out.println("VirshIT skipped: " + VIRSH + " is absent (Debian: apt-get install libvirt-clients)");
        }
        assumeTrue(VIRSH + " is absent (Debian: apt-get install libvirt-clients)", Files.isExecutable(VIRSH));
    }

    static String uri(Path socket) {
        return "kvmtool:///session?socket=" + socket;
    }

    static Path readOnlySocket() {
        return rpcSocket().resolveSibling(rpcSocket().getFileName() + "-ro");
    }

    /** virsh against the read-write socket; returns its exit code and output. */
    static Run virsh(String... args) throws Exception {
        return virshAt(rpcSocket(), args);
    }

    static Run virshAt(Path socket, String... args) throws Exception {
        List<String> command = list(VIRSH.toString(), "-c", uri(socket));
        command.addAll(List.of(args));
        return run(Duration.ofSeconds(60), null, command);
    }

    /** virsh that must succeed; returns its output. */
    static String ok(String... args) throws Exception {
        Run r = virsh(args);
        assertEquals("virsh " + String.join(" ", args) + ": " + r.output(), 0, r.exitCode());
        return r.output();
    }

    // ---------------------------------------------------------------- commands

    @Test
    public void virshManagesADomainFromDefinitionToUndefinition() throws Exception {
        awaitManager();
        Path file = writeFile("vm1.xml", guestXml("vm1"));

        String version = ok("version");
        assertTrue(version, version.contains("Using API: KVMTOOL"));
        assertTrue(version, version.contains("Running hypervisor: KVMTOOL 3.18.0"));

        assertEquals("Domain 'vm1' defined from " + file, ok("define", file.toString()).trim());
        assertTrue(ok("list", "--all").matches("(?s).*\\n -\\s+vm1\\s+shut off\\n.*"));
        assertEquals("shutoff", state("vm1"));

        assertEquals("Domain 'vm1' started", ok("start", "vm1").trim());
        assertEquals("running", state("vm1"));
        long pid = pid("vm1");
        assertTrue(alive(pid));
        String list = ok("list");
        String id = find(list, "^ (\\d+)\\s+vm1\\s+running$");

        String info = ok("dominfo", "vm1");
        assertEquals(id, find(info, "^Id:\\s+(\\S+)$"));
        assertEquals("vm1", find(info, "^Name:\\s+(\\S+)$"));
        assertEquals(attribute("vm1", "Uuid"), find(info, "^UUID:\\s+(\\S+)$"));
        assertEquals("running", find(info, "^State:\\s+(.+)$"));
        assertEquals("1", find(info, "^CPU\\(s\\):\\s+(\\S+)$"));
        assertEquals("32768 KiB", find(info, "^Max memory:\\s+(.+)$"));
        assertEquals("yes", find(info, "^Persistent:\\s+(.+)$"));
        assertEquals("disable", find(info, "^Autostart:\\s+(.+)$"));
        assertEquals("running (booted)", ok("domstate", "vm1", "--reason").trim());
        assertTrue(ok("dominfo", id).contains("Name:           vm1"));   // lookup by id

        String xml = ok("dumpxml", "vm1");
        assertTrue(xml, xml.contains("<name>vm1</name>"));
        assertTrue(xml, xml.contains("<memory unit=\"KiB\">32768</memory>"));

        assertEquals("Domain 'vm1' suspended", ok("suspend", "vm1").trim());
        assertEquals("paused", state("vm1"));
        assertEquals("paused (user)", ok("domstate", "vm1", "--reason").trim());
        assertEquals("Domain 'vm1' resumed", ok("resume", "vm1").trim());
        assertEquals("running (unpaused)", ok("domstate", "vm1", "--reason").trim());
        assertEquals(pid, pid("vm1"));

        ok("setmem", "vm1", "16384");   // KiB, through the balloon
        assertEquals(16L << 20, attribute("vm1", "CurrentMemoryBytes"));
        assertEquals("16384 KiB", find(ok("dominfo", "vm1"), "^Used memory:\\s+(.+)$"));

        assertEquals("Domain 'vm1' marked as autostarted", ok("autostart", "vm1").trim());
        assertEquals(Boolean.TRUE, attribute("vm1", "Autostart"));
        assertEquals("enable", find(ok("dominfo", "vm1"), "^Autostart:\\s+(.+)$"));
        assertEquals("Domain 'vm1' unmarked as autostarted", ok("autostart", "--disable", "vm1").trim());
        assertEquals(Boolean.FALSE, attribute("vm1", "Autostart"));

        Run again = virsh("start", "vm1");
        assertNotEquals(0, again.exitCode());
        assertTrue(again.output(), again.output().contains("Domain is already active"));

        assertEquals("Domain 'vm1' destroyed", ok("destroy", "vm1").trim());
        assertEquals("shut off (destroyed)", ok("domstate", "vm1", "--reason").trim());
        assertFalse(alive(pid));

        assertEquals("Domain 'vm1' has been undefined", ok("undefine", "vm1").trim());
        assertFalse(domainNames().contains("vm1"));
        Run gone = virsh("dominfo", "vm1");
        assertNotEquals(0, gone.exitCode());
        assertTrue(gone.output(), gone.output().contains("failed to get domain 'vm1'"));
    }

    @Test
    public void shutdownOfALinuxGuestEndsIt() throws Exception {
        awaitManager();
        ok("define", writeFile("lx.xml", linuxXml("lx")).toString());
        ok("start", "lx");
        long pid = pid("lx");
        await(() -> consoleLog("lx").contains("STANDIN LINUX READY"), WAIT, "the Linux-like guest is up");
        assertEquals("Domain 'lx' is being shutdown", ok("shutdown", "lx").trim());
        await(() -> ok("domstate", "lx", "--reason").trim().equals("shut off (shutdown)"), WAIT,
                "lx ended by itself (SysRq s, u, b)");
        assertFalse(alive(pid));
    }

    @Test
    public void shutdownOfTheTestGuestFallsBackToDestroy() throws Exception {
        startGuest("nosysrq");
        long pid = pid("nosysrq");
        assertEquals("Domain 'nosysrq' is being shutdown", ok("shutdown", "nosysrq").trim());
        assertEquals("in shutdown", ok("domstate", "nosysrq").trim());
        // the test guest ignores SysRq: destroyed after shutdown.timeout.seconds (3 s here)
        await(() -> "shutoff".equals(state("nosysrq")), Duration.ofSeconds(20), "nosysrq destroyed after the timeout");
        assertFalse(alive(pid));
    }

    // ---------------------------------------------------------------- events

    @Test
    public void eventLoopSeesStartsAndStops() throws Exception {
        awaitManager();
        defineDomain(guestXml("ev"));
        defineDomain(guestXml("evprobe"));
        // a redefinition must name the domain's uuid (without one it is a new domain, refused as libvirt does)
        String probe = guestXml("evprobe").replace("</name>", "</name><uuid>" + attribute("evprobe", "Uuid") + "</uuid>");
        List<String> command = list("stdbuf", "-oL", VIRSH.toString(), "-c", uri(rpcSocket()), "event", "--all",
                "--loop", "--timeout", "15");
        Process events = new ProcessBuilder(command).redirectErrorStream(true).start();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = drain(events.getInputStream(), output);
        try {
            // registered once an event of ours comes through: redefine a probe domain until one does
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!text(output).contains("for domain 'evprobe'")) {
                assertTrue("virsh event registered within 10 s: " + text(output), System.nanoTime() < deadline);
                defineDomain(probe);
                Thread.sleep(200);
            }
            ok("start", "ev");
            ok("suspend", "ev");
            ok("resume", "ev");
            ok("destroy", "ev");
            await(() -> text(output).contains("for domain 'ev': Stopped Destroyed"), WAIT,
                    "the stop event; seen: " + text(output));
            assertTrue(events.waitFor(30, TimeUnit.SECONDS));
            reader.join(5000);
            String seen = text(output);
            assertEquals(seen, 0, events.exitValue());
            int started = seen.indexOf("event 'lifecycle' for domain 'ev': Started Booted");
            int suspended = seen.indexOf("event 'lifecycle' for domain 'ev': Suspended Paused");
            int resumed = seen.indexOf("event 'lifecycle' for domain 'ev': Resumed Unpaused");
            int stopped = seen.indexOf("event 'lifecycle' for domain 'ev': Stopped Destroyed");
            assertTrue(seen, started >= 0 && suspended > started && resumed > suspended && stopped > resumed);
            assertTrue(seen, seen.contains("event loop timed out"));
        } finally {
            events.destroyForcibly();
        }
    }

    // ---------------------------------------------------------------- console

    @Test
    public void consoleCarriesTypingAndEcho() throws Exception {
        startGuest("con");
        // virsh console needs a terminal: script(1) gives it a pty, the test types into script's stdin
        Process console = new ProcessBuilder("script", "-qfec", VIRSH + " -c '" + uri(rpcSocket()) + "' console con",
                "/dev/null").redirectErrorStream(true).start();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = drain(console.getInputStream(), output);
        try (OutputStream keys = console.getOutputStream()) {
            await(() -> text(output).contains("Escape character is ^]"), WAIT, "virsh console connects: " + text(output));
            keys.write("hello through virsh".getBytes(StandardCharsets.UTF_8));
            keys.flush();
            await(() -> text(output).contains("hello through virsh"), WAIT, "the guest's echo: " + text(output));
            keys.write(0x1d);   // Ctrl-]
            keys.flush();
            assertTrue("virsh console leaves on Ctrl-]", console.waitFor(30, TimeUnit.SECONDS));
            reader.join(5000);
            assertEquals(text(output), 0, console.exitValue());
        } finally {
            console.destroyForcibly();
        }
        assertTrue(consoleLog("con").contains("hello through virsh"));
        assertEquals("the guest runs on after the console is left", "running", state("con"));
    }

    // ---------------------------------------------------------------- access

    @Test
    public void readOnlySocketReadsButRefusesToAct() throws Exception {
        awaitManager();
        defineDomain(guestXml("ro"));
        Run list = virshAt(readOnlySocket(), "-r", "list", "--all");
        assertEquals(list.output(), 0, list.exitCode());
        assertTrue(list.output(), list.output().contains("ro"));
        Run info = virshAt(readOnlySocket(), "dominfo", "ro");
        assertEquals(info.output(), 0, info.exitCode());

        Run start = virshAt(readOnlySocket(), "start", "ro");
        assertNotEquals(start.output(), 0, start.exitCode());
        assertTrue(start.output(), start.output().contains("read only") || start.output().contains("read-only"));
        assertEquals("shutoff", state("ro"));
        Run define = virshAt(readOnlySocket(), "define", writeFile("ro2.xml", guestXml("ro2")).toString());
        assertNotEquals(define.output(), 0, define.exitCode());
        assertFalse(domainNames().contains("ro2"));
    }

    /**
     * Another local user: refused on the read-write socket (0600, and SO_PEERCRED), served read-only on the
     * read-only one. Needs root to switch users (runuser) and a user "nobody".
     */
    @Test
    public void otherUsersGetTheReadOnlySocketOnly() throws Exception {
        Path runuser = Path.of("/usr/sbin/runuser");
        assumeTrue("needs root and runuser to act as another user",
                Files.isExecutable(runuser) && "root".equals(System.getProperty("user.name")));
        awaitManager();
        defineDomain(guestXml("other"));
        // let "nobody" reach the sockets: the work directory is private (0700) by default
        Files.setPosixFilePermissions(workDir(), PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(rpcSocket().getParent(), PosixFilePermissions.fromString("rwx--x--x"));
        List<String> asNobody = list(runuser.toString(), "-u", "nobody", "--", "env", "HOME=/tmp",
                "LIBVIRT_AUTOSTART=0", VIRSH.toString(), "-c");

        List<String> rw = new ArrayList<>(asNobody);
        rw.addAll(List.of(uri(rpcSocket()), "list", "--all"));
        Run refused = run(Duration.ofSeconds(60), null, rw);
        assertNotEquals(refused.output(), 0, refused.exitCode());

        List<String> ro = new ArrayList<>(asNobody);
        ro.addAll(List.of(uri(readOnlySocket()), "list", "--all"));
        Run read = run(Duration.ofSeconds(60), null, ro);
        assertEquals(read.output(), 0, read.exitCode());
        assertTrue(read.output(), read.output().contains("other"));

        List<String> start = new ArrayList<>(asNobody);
        start.addAll(List.of(uri(readOnlySocket()), "start", "other"));
        Run act = run(Duration.ofSeconds(60), null, start);
        assertNotEquals(act.output(), 0, act.exitCode());
        assertEquals("shutoff", state("other"));
    }

    /**
     * virsh with no ?socket= finds the manager at libvirt's default path for kvmtool:///system. Only where this
     * test may listen there: as root, and only while no one else does (another manager, a leftover).
     */
    @Test
    public void virshFindsTheDefaultSocketByItself() throws Exception {
        assumeTrue("listening on " + DEFAULT_SOCKET + " needs root", "root".equals(System.getProperty("user.name")));
        assumeTrue(DEFAULT_SOCKET + " is taken (another manager, or a leftover): not touched",
                !Files.exists(DEFAULT_SOCKET));
        awaitManager();
        defineDomain(guestXml("dflt"));
        ConfigurationAdmin configAdmin = awaitService(ConfigurationAdmin.class, null, Duration.ofSeconds(30));
        Configuration config = configAdmin.getConfiguration("org.kvmtool.manager.rpc", null);
        Dictionary<String, Object> saved = config.getProperties();
        Dictionary<String, Object> moved = copy(saved);
        moved.put("socket", DEFAULT_SOCKET.toString());
        moved.remove("socket_ro");
        config.update(moved);
        try {
            await(() -> Files.exists(DEFAULT_SOCKET), WAIT, "the manager listens on " + DEFAULT_SOCKET);
            Run plain = run(Duration.ofSeconds(60), null, List.of(VIRSH.toString(), "-c", "kvmtool:///system",
                    "list", "--all"));
            assumeTrue("someone else answered on " + DEFAULT_SOCKET + ": " + plain.output(),
                    plain.output().contains("dflt") || plain.exitCode() != 0);
            assertEquals(plain.output(), 0, plain.exitCode());
            assertTrue(plain.output(), plain.output().contains("dflt"));
            Run uri = run(Duration.ofSeconds(60), null, List.of(VIRSH.toString(), "-c", "kvmtool:///system", "uri"));
            assertEquals("kvmtool:///system", uri.output().trim());
        } finally {
            config.update(saved);
            await(() -> !Files.exists(DEFAULT_SOCKET) && Files.exists(rpcSocket()), WAIT,
                    "the socket is back in the work directory");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Dictionary<String, Object> copy(Dictionary<String, Object> d) {
        Hashtable<String, Object> out = new Hashtable<>();
        if (d != null) {
            for (var keys = d.keys(); keys.hasMoreElements();) {
                String k = keys.nextElement();
                out.put(k, d.get(k));
            }
        }
        return out;
    }

    private static Thread drain(InputStream in, ByteArrayOutputStream sink) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) > 0;) {
                    synchronized (sink) {
                        sink.write(buf, 0, n);
                    }
                }
            } catch (IOException ended) {
                // the process is gone
            }
        }, "virsh-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static String text(ByteArrayOutputStream sink) {
        synchronized (sink) {
            return sink.toString(StandardCharsets.UTF_8);
        }
    }
}
