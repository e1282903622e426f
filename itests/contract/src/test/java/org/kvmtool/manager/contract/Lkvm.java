package org.kvmtool.manager.contract;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * An lkvm binary under test, with a private HOME (short: sun_path holds 108 bytes) that holds the instances'
 * sockets. Everything started is killed and removed by {@link #close()}. A prefix runs it through another
 * command that execs it (ip netns exec, setpriv), so that its pid is lkvm's.
 */
final class Lkvm implements AutoCloseable {
    private final Path binary;
    private final List<String> prefix;
    private final Path home;
    private final List<Instance> instances = new ArrayList<>();
    private final List<Process> commands = new ArrayList<>();

    Lkvm(Path binary) throws IOException {
        this(binary, List.of());
    }

    Lkvm(Path binary, List<String> prefix) throws IOException {
        this.binary = binary;
        this.prefix = List.copyOf(prefix);
        this.home = Files.createTempDirectory(Path.of("/tmp"), "lk");
    }

    Path binary() {
        return binary;
    }

    Path home() {
        return home;
    }

    /** The socket path exactly as lkvm spells it in its messages ("$HOME/.lkvm//NAME.sock"). */
    String socketPathAsPrinted(String name) {
        return home + "/.lkvm//" + name + ".sock";
    }

    Path socket(String name) {
        return home.resolve(".lkvm").resolve(name + ".sock");
    }

    /** lkvm run --name NAME -k KERNEL -m MB -c CPUS --nodefaults -n mode=none EXTRA..., stdio on a fresh pty. */
    Instance run(String name, Path kernel, int mb, int cpus, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("run", "--name", name, "-k", kernel.toString(),
                "-m", Integer.toString(mb), "-c", Integer.toString(cpus), "--nodefaults", "-n", "mode=none"));
        args.addAll(List.of(extra));
        return start(name, args);
    }

    /** Any lkvm command line, stdio on a fresh pty, stderr to a file. */
    Instance start(String name, List<String> args) throws IOException {
        Pty pty = new Pty();
        Path stderr = Files.createTempFile(home, "stderr", ".txt");
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(binary.toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile());
        pb.environment().clear();
        pb.environment().put("HOME", home.toString());
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.redirectInput(ProcessBuilder.Redirect.from(new File(pty.slavePath())));
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(pty.slavePath())));
        pb.redirectError(stderr.toFile());
        Instance i = new Instance(this, name, pb.start(), pty, stderr, System.nanoTime());
        instances.add(i);
        return i;
    }

    /** A short-lived command (list, stop, version, ...), stdin from /dev/null. */
    Result command(Duration timeout, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(home, "out", ".txt");
        Path err = Files.createTempFile(home, "err", ".txt");
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(binary.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile());
        pb.environment().clear();
        pb.environment().put("HOME", home.toString());
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectOutput(out.toFile());
        pb.redirectError(err.toFile());
        Process p = pb.start();
        commands.add(p);
        boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return new Result(p, done, out, err);
    }

    @Override
    public void close() throws IOException {
        commands.forEach(Process::destroyForcibly);
        for (Instance i : instances) {
            if (!i.process().isAlive() && i.process().exitValue() != 0) {
                // what a test that failed on a broken connection needs to know: did this lkvm die, and why
                System.out.println("lkvm " + i.name() + " had ended (exit " + i.process().exitValue() + "); its stderr:\n"
                        + i.stderr());
            }
            i.process().destroyForcibly();
            try {
                i.process().waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            i.pty().close();
        }
        try (Stream<Path> s = Files.walk(home)) {
            s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }

    /** A running (or ended) lkvm run. */
    record Instance(Lkvm lkvm, String name, Process process, Pty pty, Path stderrFile, long startedNanos) {
        long pid() {
            return process.pid();
        }

        Path socket() {
            return lkvm.socket(name);
        }

        String stderr() throws IOException {
            return Files.readString(stderrFile, StandardCharsets.ISO_8859_1);
        }

        /** Waits for the socket to answer PID; returns the time from spawn to that answer. */
        Duration awaitReady(Duration timeout) throws IOException, InterruptedException {
            try (Ipc ipc = Ipc.connect(socket(), timeout)) {
                if (ipc.call(Ipc.PID, timeout).isEmpty()) {
                    throw new IOException("no PID reply from " + name);
                }
            }
            return Duration.ofNanos(System.nanoTime() - startedNanos);
        }

        /**
         * Waits until the vCPU threads exist: lkvm listens before it creates them, and a STOP or PAUSE that
         * arrives in between is lost (kvm__reboot and kvm__pause find no vCPU thread and return).
         */
        void awaitVcpus(int cpus, Duration timeout) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            String last = "kvm-vcpu-" + (cpus - 1);
            while (!threadNames().contains(last)) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("no thread " + last + " in " + threadNames());
                }
                Thread.sleep(2);
            }
        }

        /** Exit code once ended (128+N after signal N), or -1 if still running after the timeout. */
        int awaitExit(Duration timeout) throws InterruptedException {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
        }

        /** The comm of every thread, in thread id order. */
        List<String> threadNames() throws IOException {
            List<String> names = new ArrayList<>();
            try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid()), "task"))) {
                for (Path t : s.sorted(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString())))
                        .toList()) {
                    names.add(Files.readString(t.resolve("comm")).strip());
                }
            }
            return names;
        }

        /** utime + stime of all threads, in clock ticks. */
        long cpuTicks() throws IOException {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }

        long rssKiB() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            throw new IOException("no VmRSS for " + pid());
        }
    }

    /** The outcome of a short-lived command. */
    record Result(Process process, boolean finished, Path out, Path err) {
        int exitCode() {
            return process.exitValue();
        }

        String stdout() throws IOException {
            return Files.readString(out, StandardCharsets.ISO_8859_1);
        }

        String stderr() throws IOException {
            return Files.readString(err, StandardCharsets.ISO_8859_1);
        }

        boolean awaitFinish(Duration timeout) throws InterruptedException {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
