package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.Test;
import org.ops4j.pax.exam.Option;

/**
 * Issue #10 through Karaf's shell: every kvmtool: command's happy path and its main error (printed as
 * {@code error: ...}, failing the command), the same lifecycle scenario through the shell and through Jolokia
 * (as Karaf's own itests test a feature through both faces), the command ACL (a viewer may look, not act), and
 * an operator's bin/client in batch mode over ssh.
 */
public class ShellIT extends GuestTestSupport {

    /** A viewer who may also log in over ssh (Karaf's sshRole), to try the ACL as an operator would. */
    static final String SSH_VIEWER = "sshviewer";
    static final String SSH_VIEWER_PASSWORD = "itest-sshviewer-pw";

    @Override
    protected Option[] additionalOptions() {
        return new Option[] {
            editConfigurationFilePut("etc/users.properties", SSH_VIEWER, SSH_VIEWER_PASSWORD + ",viewer,ssh"),
        };
    }

    // ---------------------------------------------------------------- one scenario, two faces

    /** What an operator does to a domain, and what they see of it, through one face of the manager. */
    interface Face {
        void define(String name, String xml) throws Exception;

        void act(String name, String action) throws Exception;   // start, suspend, resume, destroy, undefine

        /** "running", "paused", "shutoff". */
        String state(String name) throws Exception;

        /** What the guest wrote to its console so far. */
        String consoleOutput(String name) throws Exception;

        /** Types text into the console; returns what the console showed back. */
        String typeIntoConsole(String name, String text) throws Exception;

        boolean exists(String name) throws Exception;
    }

    /** The Karaf shell, as an admin types it. */
    final class ShellFace implements Face {
        @Override
        public void define(String name, String xml) throws Exception {
            Path file = writeFile(name + ".xml", xml);
            assertEquals("Domain '" + name + "' defined from " + file,
                    executeCommand("kvmtool:define " + file).trim());
        }

        @Override
        public void act(String name, String action) throws Exception {
            String expected = switch (action) {
                case "start" -> "Domain '" + name + "' started";
                case "suspend" -> "Domain '" + name + "' suspended";
                case "resume" -> "Domain '" + name + "' resumed";
                case "destroy" -> "Domain '" + name + "' destroyed";
                case "undefine" -> "Domain '" + name + "' has been undefined";
                default -> throw new IllegalArgumentException(action);
            };
            assertEquals(expected, executeCommand("kvmtool:" + action + " " + name).trim());
        }

        @Override
        public String state(String name) throws Exception {
            return executeCommand("kvmtool:domstate " + name).trim().replace("shut off", "shutoff");
        }

        /** The console log, as an operator reads it in the shell (the console itself shows only what comes next). */
        @Override
        public String consoleOutput(String name) throws Exception {
            return executeCommand("shell:cat " + consoleLogFile(name));
        }

        @Override
        public String typeIntoConsole(String name, String text) throws Exception {
            try (Interactive console = new Interactive("kvmtool:console " + name)) {
                console.awaitOutput("Escape character is ^]");
                console.type(text);
                console.awaitOutput(text);
                console.type("\u001d");   // Ctrl-]
                return console.end();
            }
        }

        @Override
        public boolean exists(String name) throws Exception {
            return List.of(executeCommand("kvmtool:list --all --name").split("\\s+")).contains(name);
        }
    }

    /** Jolokia over HTTP, as Hawtio or a script uses it, as the admin. */
    final class JolokiaFace implements Face {
        @Override
        public void define(String name, String xml) throws Exception {
            assertEquals(name, Json.string(exec(managerName().toString(), "defineDomain", Json.quote(xml))));
        }

        @Override
        public void act(String name, String action) throws Exception {
            exec(domainName(name).toString(), action);
        }

        @Override
        public String state(String name) throws Exception {
            return Json.string(Json.value(jolokiaRead(domainName(name).toString(), "State", ADMIN_USER, ADMIN_PASSWORD)));
        }

        @Override
        public String consoleOutput(String name) throws Exception {
            return Json.string(exec(domainName(name).toString(), "consoleLog", "65536"));
        }

        @Override
        public String typeIntoConsole(String name, String text) throws Exception {
            exec(domainName(name).toString(), "sendConsole", Json.quote(text));
            await(() -> consoleOutput(name).contains(text), WAIT, "the echo of " + text);
            return consoleOutput(name);
        }

        @Override
        public boolean exists(String name) throws Exception {
            String names = Json.value(jolokiaRead(managerName().toString(), "DomainNames", ADMIN_USER, ADMIN_PASSWORD));
            return names.contains(Json.quote(name));
        }

        private String exec(String mbean, String operation, String... args) throws Exception {
            return Json.value(jolokiaExec(mbean, operation, ADMIN_USER, ADMIN_PASSWORD, args));
        }
    }

    @Test
    public void lifecycleThroughTheShell() throws Exception {
        lifecycle(new ShellFace(), "life-shell");
    }

    @Test
    public void lifecycleThroughJolokia() throws Exception {
        lifecycle(new JolokiaFace(), "life-jolokia");
    }

    /** define, start, console banner (and echo), suspend, resume, destroy, undefine: each seen through the face. */
    private void lifecycle(Face face, String name) throws Exception {
        awaitManager();
        face.define(name, guestXml(name));
        assertTrue(face.exists(name));
        assertEquals("shutoff", face.state(name));

        face.act(name, "start");
        assertEquals("running", face.state(name));
        long pid = pid(name);
        assertTrue("lkvm " + pid + " runs", alive(pid));
        await(() -> face.consoleOutput(name).contains("GUEST READY"), WAIT, "the banner on " + name + "'s console");
        String echoed = face.typeIntoConsole(name, "hello-" + name);
        assertTrue(echoed, echoed.contains("hello-" + name));

        face.act(name, "suspend");
        assertEquals("paused", face.state(name));
        face.act(name, "resume");
        assertEquals("running", face.state(name));
        assertEquals("the same lkvm after suspend and resume", pid, pid(name));

        face.act(name, "destroy");
        assertEquals("shutoff", face.state(name));
        await(() -> !alive(pid), WAIT, "lkvm " + pid + " ended");

        face.act(name, "undefine");
        assertFalse(face.exists(name));
        await(() -> !registered(name), WAIT, "its MBean is gone");
    }

    // ---------------------------------------------------------------- every command

    @Test
    public void everyCommandDoesItsJob() throws Exception {
        awaitManager();
        String name = "every";
        Path file = writeFile(name + ".xml", guestXml(name));

        // define, list, dominfo, domstate of an inactive domain
        assertEquals("Domain 'every' defined from " + file, executeCommand("kvmtool:define " + file).trim());
        assertTrue(executeCommand("kvmtool:list --all").matches("(?s).*\\n -\\s+every\\s+shut off\\n.*"));
        assertFalse("plain list shows active domains only", executeCommand("kvmtool:list").contains(name));
        assertTrue(executeCommand("kvmtool:list --inactive --name").contains(name));
        assertTrue(executeCommand("kvmtool:list --all --persistent --name").contains(name));
        assertFalse(executeCommand("kvmtool:list --all --transient --name").contains(name));
        String info = executeCommand("kvmtool:dominfo " + name);
        assertEquals("shut off", find(info, "^State:\\s+(.+)$"));
        assertEquals("yes", find(info, "^Persistent:\\s+(.+)$"));
        assertEquals("32768 KiB", find(info, "^Max memory:\\s+(.+)$"));
        assertTrue(executeCommand("kvmtool:domstate " + name).startsWith("shut off"));

        // autostart
        assertEquals("Domain 'every' marked as autostarted", executeCommand("kvmtool:autostart " + name).trim());
        assertTrue(executeCommand("kvmtool:list --all --autostart --name").contains(name));
        assertEquals("enable", find(executeCommand("kvmtool:dominfo " + name), "^Autostart:\\s+(.+)$"));
        assertEquals("Domain 'every' unmarked as autostarted",
                executeCommand("kvmtool:autostart --disable " + name).trim());
        assertFalse(executeCommand("kvmtool:list --all --autostart --name").contains(name));

        // start and what a running domain shows
        assertEquals("Domain 'every' started", executeCommand("kvmtool:start " + name).trim());
        long pid = pid(name);
        assertTrue(alive(pid));
        assertTrue(executeCommand("kvmtool:list").matches("(?s).*\\n \\d+\\s+every\\s+running\\n.*"));
        assertTrue(executeCommand("kvmtool:list --state-running --name").contains(name));
        info = executeCommand("kvmtool:dominfo " + name);
        assertEquals("running", find(info, "^State:\\s+(.+)$"));
        assertEquals(Long.toString(pid), find(info, "^Pid:\\s+(\\d+)$"));
        assertTrue(find(info, "^Console:\\s+(.+)$").startsWith("/dev/pts/"));
        assertEquals("running (booted)", executeCommand("kvmtool:domstate --reason " + name).trim());
        assertEquals("virsh's order", "running (booted)", executeCommand("kvmtool:domstate " + name + " --reason").trim());
        assertTrue(executeCommand("kvmtool:dumpxml " + name).contains("<name>every</name>"));

        String stats = executeCommand("kvmtool:domstats " + name);
        assertTrue(stats, stats.contains("Domain: 'every'"));
        assertTrue(stats, stats.contains("state.state=1"));
        assertTrue(stats, stats.contains("balloon.maximum=32768"));

        String vcpus = executeCommand("kvmtool:vcpuinfo " + name);
        assertEquals("0", find(vcpus, "^VCPU\\s+: (\\d+)$"));
        String thread = find(vcpus, "^Thread\\s+: (\\d+)$");
        assertTrue("vCPU thread " + thread + " belongs to lkvm " + pid,
                Files.exists(Path.of("/proc", Long.toString(pid), "task", thread)));

        // suspend, resume
        assertEquals("Domain 'every' suspended", executeCommand("kvmtool:suspend " + name).trim());
        assertEquals("paused (user)", executeCommand("kvmtool:domstate --reason " + name).trim());
        assertTrue(executeCommand("kvmtool:list --state-paused --name").contains(name));
        assertEquals("Domain 'every' resumed", executeCommand("kvmtool:resume " + name).trim());
        assertEquals("running (unpaused)", executeCommand("kvmtool:domstate --reason " + name).trim());

        // live tuning: the balloon always, CPU shares and memory limit where the manager can use cgroups
        executeCommand("kvmtool:setmem " + name + " 16M");
        assertEquals("16384 KiB", find(executeCommand("kvmtool:dominfo " + name), "^Used memory:\\s+(.+)$"));
        if (!(Boolean) mbeans().getAttribute(managerName(), "CgroupsUsable")) {
            System.out.println("ShellIT: schedinfo --set and memtune --hard-limit not tried: "
                    + mbeans().getAttribute(managerName(), "CgroupReason"));
        } else {
            assertEquals("512", find(executeCommand("kvmtool:schedinfo " + name + " --set cpu_shares=512"),
                    "^cpu_shares\\s+: (.+)$"));
            assertEquals("512", find(executeCommand("kvmtool:schedinfo " + name), "^cpu_shares\\s+: (.+)$"));
            assertEquals("131072", find(executeCommand("kvmtool:memtune " + name + " --hard-limit 128M"),
                    "^hard_limit\\s+: (.+)$"));
            assertEquals("131072", find(executeCommand("kvmtool:memtune " + name), "^hard_limit\\s+: (.+)$"));
        }

        // the console: the guest echoes what is typed; Ctrl-] leaves, the guest runs on
        try (Interactive console = new Interactive("kvmtool:console " + name)) {
            console.awaitOutput("Connected to domain 'every'");
            console.type("typed in the shell");
            console.awaitOutput("typed in the shell");
            console.type("\u001d");
            console.end();
        }
        assertTrue("the console log has it too", Files.readString(consoleLogFile(name)).contains("typed in the shell"));
        assertEquals("running", state(name));

        // reboot: kvmtool has none, a new lkvm
        assertEquals("Domain 'every' is being rebooted", executeCommand("kvmtool:reboot " + name).trim());
        await(() -> "running".equals(state(name)) && pid(name) != pid, WAIT, "every runs again in a new lkvm");
        await(() -> !alive(pid), WAIT, "the old lkvm ended");
        long rebooted = pid(name);

        // shutdown: the test guest knows no SysRq, so the manager destroys it after shutdown.timeout.seconds
        assertEquals("Domain 'every' is being shutdown", executeCommand("kvmtool:shutdown " + name).trim());
        await(() -> "shutoff".equals(state(name)), Duration.ofSeconds(30), "every shut off after the shutdown timeout");
        assertFalse(alive(rebooted));

        // destroy
        executeCommand("kvmtool:start " + name);
        long again = pid(name);
        assertEquals("Domain 'every' destroyed", executeCommand("kvmtool:destroy " + name).trim());
        assertEquals("shut off (destroyed)", executeCommand("kvmtool:domstate --reason " + name).trim());
        assertFalse(alive(again));

        // undefine
        assertEquals("Domain 'every' has been undefined", executeCommand("kvmtool:undefine " + name).trim());
        assertFalse(executeCommand("kvmtool:list --all --name").contains(name));

        // create: transient and started
        Path transientFile = writeFile("transient.xml", guestXml("every-transient"));
        assertEquals("Domain 'every-transient' created from " + transientFile,
                executeCommand("kvmtool:create " + transientFile).trim());
        assertTrue(executeCommand("kvmtool:list --transient --name").contains("every-transient"));
        assertEquals("no", find(executeCommand("kvmtool:dominfo every-transient"), "^Persistent:\\s+(.+)$"));
        executeCommand("kvmtool:destroy every-transient");
        await(() -> !domainNames().contains("every-transient"), WAIT, "a transient domain goes when it stops");

        String version = executeCommand("kvmtool:version");
        assertTrue(version, version.contains("Running hypervisor: KVMTOOL 3.18.0"));
        assertTrue(version, version.contains("Connection URI: kvmtool:///session"));
    }

    @Test
    public void linuxGuestShutsDownByItself() throws Exception {
        awaitManager();
        Path file = writeFile("linux.xml", linuxXml("linuxlike"));
        executeCommand("kvmtool:define " + file);
        executeCommand("kvmtool:start linuxlike");
        long pid = pid("linuxlike");
        await(() -> consoleLog("linuxlike").contains("STANDIN LINUX READY"), WAIT, "the Linux-like banner");
        executeCommand("kvmtool:shutdown linuxlike");
        // SysRq s, u, b: the guest resets, lkvm ends normally, long before the 3 s timeout would destroy it
        await(() -> "shut off (shutdown)".equals(executeCommand("kvmtool:domstate --reason linuxlike").trim()),
                WAIT, "linuxlike shut off by itself");
        assertFalse(alive(pid));
        await(() -> Files.readString(consoleLogFile("linuxlike")).contains("sysrq: Resetting"), WAIT,
                "the guest's last words in its console log: " + Files.readString(consoleLogFile("linuxlike")));
    }

    /** Each command's main error, as virsh prints it: "error: ..." and a failing command. */
    @Test
    public void everyCommandReportsItsMainError() throws Exception {
        awaitManager();
        String running = "err-running";
        String inactive = "err-inactive";
        startGuest(running);
        defineDomain(guestXml(inactive));

        assertError("kvmtool:dominfo nosuch", "failed to get domain 'nosuch'");
        assertError("kvmtool:domstate nosuch", "failed to get domain 'nosuch'");
        assertError("kvmtool:domstats nosuch", "failed to get domain 'nosuch'");
        assertError("kvmtool:dumpxml nosuch", "'nosuch'");
        assertError("kvmtool:undefine nosuch", "'nosuch'");
        assertError("kvmtool:autostart nosuch", "'nosuch'");
        assertError("kvmtool:start nosuch", "'nosuch'");
        assertError("kvmtool:start " + running, "domain is already running");
        assertError("kvmtool:shutdown " + inactive, "domain is not running");
        assertError("kvmtool:destroy " + inactive, "domain is not running");
        assertError("kvmtool:reboot " + inactive, "domain is not running");
        assertError("kvmtool:suspend " + inactive, "domain is not running");
        assertError("kvmtool:resume " + running, "domain is not paused");
        assertError("kvmtool:console " + inactive, "not running");
        assertError("kvmtool:vcpuinfo " + inactive, "domain is not running");
        assertError("kvmtool:setmem " + running + " 12parsecs", "invalid size");
        assertError("kvmtool:setmem " + running + " 1G", "the maximum");
        assertError("kvmtool:schedinfo " + running + " --set cpu_quota=5", "cpu_shares");
        assertError("kvmtool:domstate " + running + " --live", "command 'domstate' doesn't support option --live");
        assertError("kvmtool:memtune " + running + " --hard-limit lots", "invalid size");
        assertError("kvmtool:define " + workDir().resolve("no-such-file.xml"), "failed to read file");
        Path bad = writeFile("bad.xml", "<domain type='kvmtool'><name>bad</name><memory>64</memory>"
                + "<os><type>hvm</type><kernel>/k</kernel></os><devices><disk type='file' device='disk'>"
                + "<source file='/d'/><target dev='hda' bus='ide'/></disk></devices></domain>");
        assertError("kvmtool:define " + bad, "ide");
        assertError("kvmtool:create " + bad, "ide");
        Path clash = writeFile("clash.xml", guestXml(running));
        assertError("kvmtool:create " + clash, "already exists");

        // nothing changed
        assertEquals("running", state(running));
        assertEquals("shutoff", state(inactive));
        assertFalse(domainNames().contains("bad"));
        assertEquals("32768 KiB", find(executeCommand("kvmtool:dominfo " + running), "^Used memory:\\s+(.+)$"));
    }

    private void assertError(String command, String expected) throws Exception {
        String failure = failingCommand(command);
        assertTrue(command + " printed " + failure, failure.startsWith("error: "));
        assertTrue(command + " names " + expected + ": " + failure, failure.contains(expected));
        assertFalse(command + " prints no stack trace: " + failure, failure.contains("\tat "));
    }

    // ---------------------------------------------------------------- roles

    @Test
    public void aViewerMayLookButNotAct() throws Exception {
        awaitManager();
        startGuest("acl");
        Object shares = attribute("acl", "CpuShares");
        String list = executeCommandAs(VIEWER_USER, "kvmtool:list --all", "viewer");
        assertTrue(list, list.contains("acl"));
        assertTrue(executeCommandAs(VIEWER_USER, "kvmtool:dominfo acl", "viewer").contains("running"));
        assertTrue(executeCommandAs(VIEWER_USER, "kvmtool:schedinfo acl", "viewer").contains("cpu_shares"));

        for (String command : List.of("kvmtool:start acl", "kvmtool:destroy acl", "kvmtool:suspend acl",
                "kvmtool:undefine acl", "kvmtool:console acl", "kvmtool:schedinfo acl --set cpu_shares=10",
                "kvmtool:memtune acl --hard-limit 1G")) {
            String refusal = failingCommandAs(VIEWER_USER, command, "viewer");
            assertTrue(command + " refused: " + refusal, refusal.contains("Insufficient credentials")
                    || refusal.contains("CommandNotFound") || refusal.contains("Command not found"));
        }
        assertEquals("running", state("acl"));
        assertEquals(shares, attribute("acl", "CpuShares"));
        assertTrue(registered("acl"));
    }

    // ---------------------------------------------------------------- an operator's ssh session

    /** bin/client in batch mode: commands on stdin, over Karaf's ssh port, as an operator scripts it. */
    @Test
    public void operatorScriptsTheShellWithBinClient() throws Exception {
        awaitManager();
        Path file = writeFile("client.xml", guestXml("client"));
        Run admin = client(ADMIN_USER, ADMIN_PASSWORD, "kvmtool:define " + file + "\nkvmtool:start client\n"
                + "kvmtool:list --all\nkvmtool:domstate --reason client\n");
        assertEquals(admin.output(), 0, admin.exitCode());
        assertTrue(admin.output(), admin.output().contains("Domain 'client' started"));
        assertTrue(admin.output(), admin.output().matches("(?s).*\\n \\d+\\s+client\\s+running.*"));
        assertTrue(admin.output(), admin.output().contains("running (booted)"));

        Run error = client(ADMIN_USER, ADMIN_PASSWORD, "kvmtool:start client\n");
        assertNotEquals("a failing command fails the batch", 0, error.exitCode());
        assertTrue(error.output(), error.output().contains("error: domain is already running"));

        Run viewer = client(SSH_VIEWER, SSH_VIEWER_PASSWORD, "kvmtool:list --all\n");
        assertEquals(viewer.output(), 0, viewer.exitCode());
        assertTrue(viewer.output(), viewer.output().contains("client"));
        Run refused = client(SSH_VIEWER, SSH_VIEWER_PASSWORD, "kvmtool:destroy client\n");
        assertNotEquals(refused.output(), 0, refused.exitCode());
        assertEquals("running", state("client"));
    }

    private Run client(String user, String password, String commands) throws Exception {
        // -r 2 -d 1: retry the ssh connection (the ssh server may still be starting when the first test runs)
        return run(Duration.ofMinutes(2), commands, List.of(karafHome().resolve("bin/client").toString(),
                "-a", Integer.toString(sshPort()), "-h", "127.0.0.1", "-u", user, "-p", password,
                "-r", "10", "-d", "1", "-b"));
    }
}
