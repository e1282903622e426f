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
                if (Files.exists(p.runDir.resolve(name + ".status"))) {
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
        if (claimed.isEmpty()) {
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

    static String join(Object... parts) {
        return Arrays.toString(parts);
    }
}
