package org.kvmtool.manager.lean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.management.ObjectName;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lifecycle scenario through the Jolokia JVM agent of the running lean distribution, against the lkvm
 * stand-in (or a real lkvm named by KVMTOOL_LKVM) and the real-mode test guest: define, start, console,
 * suspend/resume, guest poweroff, crash, destroy, and a restart of the manager under a running guest.
 */
class LeanLifecycleIT {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path tmp;
    private static LeanInstance lean;
    private static Jolokia admin;

    @BeforeAll
    static void start() throws Exception {
        Path lkvm = lkvm();
        Path guest = Path.of(System.getProperty("kvmtool.test.guest", "none"));
        assumeTrue(Files.isExecutable(lkvm), "no lkvm: the stand-in is not built at " + lkvm
                + " (mvn -pl itests/lkvm-standin verify) and KVMTOOL_LKVM is not set");
        assumeTrue(Files.isRegularFile(guest), "no test guest at " + guest + " (mvn -pl itests/guest verify)");
        assumeTrue(LeanInstance.hasDriver(LeanInstance.distribution()),
                "this distribution has no driver yet (kvmtool-core or kvmtool-jmx is an empty placeholder)");
        lean = new LeanInstance(LeanInstance.distribution(), tmp.resolve("base"),
                Map.of("uri", "kvmtool:///session", "config.dir", tmp.resolve("config").toString(),
                        "run.dir", tmp.resolve("run").toString(), "log.dir", tmp.resolve("log").toString(),
                        "lkvm.binary", lkvm.toString(), "shutdown.timeout.seconds", "5"),
                Map.of("socket", tmp.resolve("rpc.sock").toString()));
        lean.start(Duration.ofSeconds(60));
        admin = lean.admin();
    }

    static Path lkvm() {
        String real = System.getenv("KVMTOOL_LKVM");
        return Path.of(real != null && !real.isBlank() ? real : System.getProperty("kvmtool.standin.lkvm", "none"));
    }

    static String domainXml(String name) {
        return "<domain type='kvmtool'>\n"
                + "  <name>" + name + "</name>\n"
                + "  <memory unit='MiB'>32</memory>\n"
                + "  <vcpu>1</vcpu>\n"
                + "  <os><type>hvm</type><kernel>" + System.getProperty("kvmtool.test.guest") + "</kernel></os>\n"
                + "  <devices><console type='pty'><target type='serial' port='0'/></console></devices>\n"
                + "</domain>\n";
    }

    @AfterAll
    static void stop() throws Exception {
        if (lean == null) {
            return;
        }
        try {
            // leave no guest behind
            Object names = admin.read(LeanInstance.MANAGER, "ActiveDomainNames").value();
            for (Object n : (List<?>) names) {
                admin.exec(domain(n.toString()), "destroy");
            }
        } finally {
            lean.stop(Duration.ofSeconds(30));
            lean.close();
        }
    }

    static String domain(String name) {
        return "kvmtool:type=Domain,name=" + name;
    }

    private static Object attr(String name, String attribute) throws Exception {
        return admin.read(domain(name), attribute).value();
    }

    private static void exec(String name, String operation, Object... args) throws Exception {
        Jolokia.Answer a = admin.exec(domain(name), operation, args);
        assertEquals(200, a.status(), operation + ": " + a.body());
    }

    /** defineDomain returns before the Domain MBean is registered (jmx registers it on the driver's event). */
    private static String define(String name) throws Exception {
        assertEquals(name, admin.exec(LeanInstance.MANAGER, "defineDomain", domainXml(name)).value());
        await(() -> admin.read(domain(name), "State").status() == 200, "the MBean of " + name);
        return name;
    }

    private static void awaitState(String name, String state, String reason) throws Exception {
        await(() -> state.equals(attr(name, "State")) && (reason == null || reason.equals(attr(name, "StateReason"))),
                name + " " + state + "/" + reason);
    }

    private static String awaitConsole(String name, String text) throws Exception {
        String[] last = {""};
        await(() -> {
            last[0] = String.valueOf(admin.exec(domain(name), "consoleLog", 65536).value());
            return last[0].contains(text);
        }, "'" + text + "' on the console of " + name + ", which shows: " + last[0]);
        return last[0];
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void await(Check check, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "\n--- manager output ---\n" + lean.log());
            }
            Thread.sleep(20);
        }
    }

    private static Optional<ProcessHandle> lkvmProcess(long pid) {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    }

    @Test
    void lifecycleThroughTheAgent() throws Exception {
        // define
        String vm = define("lean1");
        assertTrue(((List<?>) admin.read(LeanInstance.MANAGER, "DomainNames").value()).contains(vm));
        assertEquals("shutoff", attr(vm, "State"));
        assertEquals(-1L, ((Number) attr(vm, "Pid")).longValue());
        assertEquals(true, attr(vm, "Persistent"));

        // start and console
        exec(vm, "start");
        awaitState(vm, "running", "booted");
        long pid = ((Number) attr(vm, "Pid")).longValue();
        assertTrue(lkvmProcess(pid).isPresent(), "lkvm " + pid + " runs");
        awaitConsole(vm, "GUEST READY");
        exec(vm, "sendConsole", "hello-lean");
        awaitConsole(vm, "hello-lean");

        // the viewer sees the domain but may not touch it, nor read its console
        Jolokia viewer = lean.viewer();
        assertEquals("running", viewer.read(domain(vm), "State").value());
        // a console's bulk read of every domain's every attribute, as the Hawtio tab does
        Map<?, ?> all = (Map<?, ?>) viewer.post(Map.of("type", "read", "mbean", "kvmtool:type=Domain,*")).value();
        Map<?, ?> mine = (Map<?, ?>) all.get(new ObjectName(domain(vm)).getCanonicalName());
        assertEquals("running", mine.get("State"));
        assertEquals(pid, ((Number) mine.get("Pid")).longValue());
        assertEquals(403, viewer.exec(domain(vm), "consoleLog", 100).status());
        assertEquals(403, viewer.exec(domain(vm), "destroy").status());
        assertEquals(403, viewer.write(domain(vm), "Autostart", true).status());
        assertEquals("running", attr(vm, "State"));

        // suspend, resume
        exec(vm, "suspend");
        awaitState(vm, "paused", "user");
        exec(vm, "resume");
        awaitState(vm, "running", "unpaused");
        exec(vm, "sendConsole", "after-resume");
        awaitConsole(vm, "after-resume");

        // the guest powers itself off
        exec(vm, "sendConsole", "q");
        awaitState(vm, "shutoff", "shutdown");
        assertEquals(-1L, ((Number) attr(vm, "Pid")).longValue());
        await(() -> lkvmProcess(pid).isEmpty(), "lkvm " + pid + " gone");

        // lkvm dies by a signal
        exec(vm, "start");
        awaitState(vm, "running", "booted");
        long pid2 = ((Number) attr(vm, "Pid")).longValue();
        assertTrue(ProcessHandle.of(pid2).orElseThrow().destroyForcibly());
        awaitState(vm, "shutoff", "crashed");

        // destroy
        exec(vm, "start");
        awaitState(vm, "running", "booted");
        long pid3 = ((Number) attr(vm, "Pid")).longValue();
        exec(vm, "destroy");
        awaitState(vm, "shutoff", "destroyed");
        await(() -> lkvmProcess(pid3).isEmpty(), "lkvm " + pid3 + " gone after destroy");

        // an invalid operation names the state
        Jolokia.Answer resume = admin.exec(domain(vm), "resume");
        assertTrue(resume.status() != 200 && resume.error().contains("not running"), resume.body());
    }

    /** deploy/ is watched as in Karaf (etc/org.apache.felix.fileinstall-deploy.cfg and the deploy bundle). */
    @Test
    void aDomainXmlDroppedInDeployIsDefinedAndUndefinedWhenRemoved() throws Exception {
        Path file = lean.base().resolve("deploy").resolve("dropped.xml");
        Files.writeString(file.resolveSibling("dropped.tmp"), domainXml("dropped"));
        Files.move(file.resolveSibling("dropped.tmp"), file);
        await(() -> ((List<?>) admin.read(LeanInstance.MANAGER, "DomainNames").value()).contains("dropped"),
                "the domain of deploy/dropped.xml");
        Files.delete(file);
        await(() -> !((List<?>) admin.read(LeanInstance.MANAGER, "DomainNames").value()).contains("dropped"),
                "the domain undefined once its file is gone");
    }

    @Test
    void aRunningGuestSurvivesARestartOfTheManager() throws Exception {
        String vm = define("lean2");
        exec(vm, "start");
        awaitState(vm, "running", "booted");
        long pid = ((Number) attr(vm, "Pid")).longValue();
        awaitConsole(vm, "GUEST READY");

        int exit = lean.stop(Duration.ofSeconds(30));
        assertTrue(exit == 143 || exit == 0, "the manager stops on SIGTERM, exit " + exit);
        assertTrue(lkvmProcess(pid).isPresent(), "the guest keeps running while the manager is down");

        lean.start(Duration.ofSeconds(60));
        admin = lean.admin();
        assertEquals("running", attr(vm, "State"));
        assertEquals(pid, ((Number) attr(vm, "Pid")).longValue(), "the same lkvm, adopted");
        assertTrue(((List<?>) admin.read(LeanInstance.MANAGER, "ActiveDomainNames").value()).contains(vm));
        // the console came back with it
        exec(vm, "sendConsole", "after-restart");
        awaitConsole(vm, "after-restart");
        // and its end is still seen, with the right reason
        exec(vm, "sendConsole", "q");
        awaitState(vm, "shutoff", "shutdown");
        await(() -> lkvmProcess(pid).isEmpty(), "lkvm " + pid + " gone");
        exec(vm, "undefine");
        await(() -> !((List<?>) admin.read(LeanInstance.MANAGER, "DomainNames").value()).contains(vm), vm + " undefined");
    }
}
