package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.DomainState;
import org.kvmtool.manager.api.StateReason;

/**
 * A status file that does not parse at activation (real stand-in processes): the processes decide. A live lkvm
 * of that name is adopted with its pid, console and exit watch, and the file is rewritten; with none the domain
 * is shutoff and the file and the ghost HOME are gone. The parse error is logged naming the file.
 */
class MalformedStatusTest {
    static final String GARBAGE = "pid=banana\n\0\0garbage=\\u12";

    @TempDir
    Path tmp;
    RealHost h;
    KvmtoolDriver driver;
    final List<String> log = new ArrayList<>();
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            synchronized (log) {
                log.add(r.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void setUp() throws Exception {
        String why = RealHost.unavailable(tmp);
        assumeTrue(why == null, why);
        h = new RealHost(tmp);
        driver = h.activate();
        Logger.getLogger(Reattacher.class.getName()).addHandler(capture);
    }

    @AfterEach
    void tearDown() throws Exception {
        Logger.getLogger(Reattacher.class.getName()).removeHandler(capture);
        if (h != null) {
            h.close();
        }
    }

    private DomainInfo info(String n) {
        return driver.lookup(n).orElseThrow();
    }

    private Path status(String n) {
        return h.settings.statusDir().resolve(n + ".status");
    }

    private void awaitConsole(String n, String text) {
        Fixture.await("'" + text + "' on the console of " + n, () -> driver.consoleLog(n, 4096).contains(text));
    }

    private boolean logged(String text) {
        synchronized (log) {
            return log.stream().anyMatch(m -> m.contains(text));
        }
    }

    @Test
    void aLiveLkvmBehindAGarbageStatusFileIsAdoptedAndTheFileRewritten() throws Exception {
        driver.define(RealHost.xml("mal"));
        driver.define(RealHost.xml("good"));
        driver.start("mal");
        driver.start("good");
        awaitConsole("mal", "GUEST READY");
        long malPid = info("mal").pid();
        long goodPid = info("good").pid();
        long started = info("mal").startedAtMillis();
        driver.deactivate();
        Files.writeString(status("mal"), GARBAGE);

        driver = h.activate();
        assertEquals(new Reattacher.Result(2, 0), driver.reattached());
        assertEquals(goodPid, info("good").pid());
        assertEquals(malPid, info("mal").pid(), "the same lkvm, adopted");
        assertEquals(DomainState.RUNNING, info("mal").state());
        assertTrue(Math.abs(info("mal").startedAtMillis() - started) < 1500,
                "start time from /proc: " + info("mal").startedAtMillis() + " vs " + started);
        assertTrue(logged("malformed status file " + status("mal")), "the parse error names the file: " + log);
        DomainStatus rewritten = StatusStore.parse(Files.readString(status("mal")));
        assertEquals(malPid, rewritten.process().pid());
        assertEquals(info("mal").id(), rewritten.id());
        assertTrue(h.leftovers().isEmpty(), h.leftovers().toString());
        // console and exit watch are back: input reaches the guest, and its poweroff is seen
        driver.sendConsole("mal", "hello");
        awaitConsole("mal", "hello");
        driver.sendConsole("mal", "q");
        Fixture.await("mal shutoff shutdown", () -> info("mal").reason() == StateReason.SHUTDOWN);
        assertFalse(Files.exists(status("mal")));
        // and a restart after the rewrite reads the file as usual
        driver.deactivate();
        driver = h.activate();
        assertEquals(new Reattacher.Result(1, 0), driver.reattached());
        assertEquals(goodPid, info("good").pid());
    }

    @Test
    void aPausedGuestIsAdoptedPausedAndATransientOneKeepsItsSalvagedDefinition() throws Exception {
        driver.define(RealHost.xml("paused"));
        driver.start("paused");
        driver.suspend("paused");
        driver.create(RealHost.xml("tr"));
        long trPid = info("tr").pid();
        driver.deactivate();
        Files.writeString(status("paused"), "");
        // only the pid line damaged: the definition line survives (a transient domain has no other)
        String tr = Files.readString(status("tr"));
        Files.writeString(status("tr"), tr.replaceFirst("(?m)^pid=.*$", "pid=banana"));

        driver = h.activate();
        assertEquals(new Reattacher.Result(2, 0), driver.reattached());
        assertEquals(DomainState.PAUSED, info("paused").state(), "VMSTATE asked");
        assertEquals(trPid, info("tr").pid());
        assertFalse(info("tr").persistent());
        driver.resume("paused");
        assertEquals(DomainState.RUNNING, info("paused").state());
        driver.destroy("tr");
        assertTrue(driver.lookup("tr").isEmpty());
        driver.destroy("paused");
        assertTrue(h.leftovers().isEmpty(), h.leftovers().toString());
    }

    @Test
    void withNoLkvmTheDomainIsShutoffAndTheFileAndGhostAreGone() throws Exception {
        driver.define(RealHost.xml("dead"));
        driver.start("dead");
        long pid = info("dead").pid();
        Path home = h.settings.homeDir(info("dead").id());
        driver.deactivate();
        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
        Fixture.await("lkvm " + pid + " ended", () -> {
            try {
                return Files.readString(Path.of("/proc/" + pid + "/cmdline")).isEmpty();
            } catch (java.io.IOException gone) {
                return true;
            }
        });
        assertTrue(Files.exists(home.resolve(".lkvm/dead.sock")), "a ghost socket");
        Files.writeString(status("dead"), GARBAGE);

        driver = h.activate();
        assertEquals(new Reattacher.Result(0, 1), driver.reattached());
        assertEquals(DomainState.SHUTOFF, info("dead").state());
        assertEquals(-1, info("dead").pid());
        assertFalse(Files.exists(status("dead")), "the bad file removed");
        assertFalse(Files.exists(home), "the ghost HOME removed");
        assertTrue(h.leftovers().isEmpty(), h.leftovers().toString());
        assertTrue(logged("malformed status file " + status("dead")), log.toString());
        driver.start("dead");
        assertEquals(DomainState.RUNNING, info("dead").state());
    }
}
