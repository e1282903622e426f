package org.kvmtool.manager.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** The checks every fault of the campaign must pass: nothing lost, nothing leaked, every state true. */
final class Campaign {
    private Campaign() {
    }

    /** Waits until cond holds; fails with what() otherwise. */
    static void await(Duration timeout, Check cond, java.util.function.Supplier<String> what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (cond.holds()) {
                    return;
                }
            } catch (IOException notYet) {
                // Jolokia not answering yet, or the MBean coming back
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what.get() + " (waited " + timeout + ")");
            }
            Thread.sleep(5);
        }
    }

    interface Check {
        boolean holds() throws Exception;
    }

    /**
     * Karaf installs the boot features in two stages and Jolokia answers after the first; the second
     * (kvmtool-manager-hawtio, hawtio's webbundle) then stops and refreshes nearly every bundle, kvmtool's own
     * included (seen 40-60 s after Jolokia first answered on the loaded 2-CPU machine). Faults are tried on a
     * settled distribution: this waits until karaf.log shows the end of both stages ("Done.", or "Error installing
     * boot features"), then until the manager answers a read and Jolokia lets an operation through. Returns ms waited.
     */
    static long awaitBootFeatures(Product p, Duration timeout) throws Exception {
        long t0 = System.nanoTime();
        await(timeout, () -> bootStagesEnded(p.home.resolve("data/log")) >= 2, () -> "Karaf's boot features installed");
        await(timeout, () -> Long.valueOf(200).equals(p.post("{\"type\":\"read\",\"mbean\":\"kvmtool:type=Manager\","
                + "\"attribute\":\"Version\"}").get("status")) && Long.valueOf(200).equals(p.post("{\"type\":\"exec\","
                + "\"mbean\":\"java.lang:type=Threading\",\"operation\":\"getThreadCpuTime(long)\",\"arguments\":[1]}")
                .get("status")), () -> "the manager answering after the boot features");
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** Boot stages that ended, counted in karaf.log and its rotated files. */
    static int bootStagesEnded(Path logDir) throws IOException {
        int n = 0;
        if (!Files.isDirectory(logDir)) {
            return 0;
        }
        try (Stream<Path> logs = Files.list(logDir)) {
            for (Path f : logs.filter(f -> f.getFileName().toString().startsWith("karaf.log")).toList()) {
                try (Stream<String> lines = Files.lines(f, java.nio.charset.StandardCharsets.ISO_8859_1)) {
                    n += (int) lines.filter(l -> l.contains("FeaturesServiceImpl") && l.endsWith("| Done.")
                            || l.contains("Error installing boot features")).count();
                }
            }
        }
        return n;
    }

    static List<String> names(Product p) throws Exception {
        Object v = p.read("kvmtool:type=Manager", "DomainNames");
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) v) {
            out.add((String) o);
        }
        return out;
    }

    /**
     * Every domain's State agrees with the processes: running/paused/shutdown ⇔ its Pid is a live lkvm of this
     * instance; no lkvm of this instance without a domain that claims it; shutoff domains leave no cgroup,
     * socket or status file behind. Returns the problems found (empty when all holds).
     */
    static List<String> truth(Product p) throws Exception {
        return truth(p, true);
    }

    /**
     * With {@code leftovers} false only the states against the processes (State/Pid of every domain, no unclaimed
     * lkvm): what must hold as soon as the fact happened. Cgroups, sockets and status files are released within
     * the same job right after the state changed, so they are checked with {@code leftovers} and a settle time.
     */
    static List<String> truth(Product p, boolean leftovers) throws Exception {
        List<String> problems = new ArrayList<>();
        Map<?, ?> all;
        try {
            all = (Map<?, ?>) p.jolokia("{\"type\":\"read\",\"mbean\":\"kvmtool:type=Domain,name=*\","
                    + "\"attribute\":[\"Name\",\"State\",\"Pid\"]}");
        } catch (Product.JolokiaError e) {
            if (!String.valueOf(e.getMessage()).contains("InstanceNotFoundException")) {
                throw e;
            }
            all = Map.of();   // Jolokia answers a pattern that matches nothing with an error: no domains
        }
        List<Long> claimed = new ArrayList<>();
        for (Object v : all.values()) {
            Map<?, ?> a = (Map<?, ?>) v;
            String name = (String) a.get("Name");
            String state = (String) a.get("State");
            long pid = ((Number) a.get("Pid")).longValue();
            boolean alive = pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                    && !isZombie(pid);
            if (state.equals("shutoff")) {
                if (pid > 0) {
                    problems.add(name + " shutoff with pid " + pid);
                }
                if (leftovers && Files.exists(p.runDir.resolve(name + ".status"))) {
                    problems.add(name + " shutoff but " + name + ".status remains");
                }
            } else {
                claimed.add(pid);
                if (!alive) {
                    problems.add(name + " " + state + " but pid " + pid + " is not alive");
                }
            }
        }
        for (ProcessHandle h : p.lkvmProcesses()) {
            if (!claimed.contains(h.pid()) && !isZombie(h.pid())) {
                problems.add("lkvm " + h.pid() + " (" + Product.cmdline(h.pid()).trim() + ") runs with no domain claiming it");
            }
        }
        if (leftovers && claimed.isEmpty()) {
            for (Path cg : p.cgroups()) {
                problems.add("cgroup left: " + cg);
            }
            try (Stream<Path> s = Files.exists(p.runDir) ? Files.walk(p.runDir) : Stream.empty()) {
                s.filter(f -> f.getFileName().toString().endsWith(".sock")).forEach(f -> problems.add("socket left: " + f));
            }
        }
        return problems;
    }

    static boolean isZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException | RuntimeException gone) {
            return true;
        }
    }

    /** Descriptors of the Karaf JVM that are ptys (/dev/pts/N or /dev/ptmx). */
    static int ptyFds(ProcessHandle karaf) {
        int n = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(karaf.pid()), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String t = Files.readSymbolicLink(fd).toString();
                    if (t.startsWith("/dev/pts/") || t.equals("/dev/ptmx")) {
                        n++;
                    }
                } catch (IOException closed) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return n;
    }

    static void assertTruth(Product p, Duration settle) throws Exception {
        List<String> last = new ArrayList<>();
        long deadline = System.nanoTime() + settle.toNanos();
        while (true) {
            last = truth(p);
            if (last.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("state not true after " + settle + ": " + last);
            }
            Thread.sleep(10);
        }
    }

    /**
     * The states are true at the first read after an operation answered: one bulk read of State and Pid over
     * Jolokia, then /proc, no retry. This is as close to "at the fact" as a client over HTTP can look.
     */
    static void assertStateTrueNow(Product p, String after) throws Exception {
        List<String> problems = truth(p, false);
        if (!problems.isEmpty()) {
            throw new AssertionError("state not true at the first read after " + after + ": " + problems);
        }
    }

    /**
     * For a fact the manager learns of by itself (lkvm killed): polls the states until they are true and returns
     * the milliseconds from {@code sinceNanos} to the first read that found them true; fails after {@code bound}.
     */
    static double stateTrueAfter(Product p, long sinceNanos, Duration bound, String what) throws Exception {
        long deadline = sinceNanos + bound.toNanos();
        List<String> last;
        while (true) {
            last = truth(p, false);
            long now = System.nanoTime();
            if (last.isEmpty()) {
                return (now - sinceNanos) / 1e6;
            }
            if (now > deadline) {
                throw new AssertionError("state not true within " + bound.toMillis() + " ms of " + what + ": " + last);
            }
            Thread.sleep(1);
        }
    }

    /** "p50 X ms, max Y ms (n=N)" of the lags. */
    static String summary(List<Double> ms) {
        if (ms.isEmpty()) {
            return "n=0";
        }
        List<Double> s = new ArrayList<>(ms);
        s.sort(null);
        return String.format("p50 %.0f ms, max %.0f ms (n=%d)", s.get(s.size() / 2), s.get(s.size() - 1), s.size());
    }

    static String join(Object... parts) {
        return Arrays.toString(parts);
    }
}
