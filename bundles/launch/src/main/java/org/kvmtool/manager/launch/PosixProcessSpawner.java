package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.ImageLock;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.ProcessSpawner;
import org.kvmtool.manager.api.SpawnRequest;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Starts lkvm through the kvmtool-exec helper: posix_spawn (new session, default signals, the pty as
 * stdio, an error pipe as fd 3, a go pipe as fd 4, nothing else, a two-variable environment), then the helper
 * joins the cgroups, drops to the unprivileged user, waits for the caller to record the pid and execs lkvm
 * under the same pid.
 */
// immediate: a delayed component is disposed with its last user, so an update of the driver would rebuild it
// (and a console service would drop every console's ring and reopen its pty); infrastructure outlives the driver
@Component(service = ProcessSpawner.class, immediate = true)
@Designate(ocd = PosixProcessSpawner.Config.class)
public final class PosixProcessSpawner implements ProcessSpawner {
    static final String PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

    @ObjectClassDefinition(name = "kvmtool-manager process spawner",
            description = "How lkvm processes are started")
    public @interface Config {
        @AttributeDefinition(description = "Directory (exec allowed) where the kvmtool-exec helper is installed; "
                + "empty = the bundle's data area")
        String helper_dir() default "";

        @AttributeDefinition(description = "How long the helper may take from spawn to exec, in milliseconds")
        long exec_timeout_millis() default 10_000;
    }

    private final Posix posix;
    private final ProcFs proc;
    private final LockHolders locks;
    private final Path helper;
    private final Duration execTimeout;

    @Activate
    public PosixProcessSpawner(BundleContext context, Config config) {
        this(ExecHelper.install(helperDir(context, config.helper_dir())), Path.of("/proc"),
                Duration.ofMillis(config.exec_timeout_millis()));
    }

    PosixProcessSpawner(Path helper, Path procRoot, Duration execTimeout) {
        this.posix = new Posix();
        this.proc = new ProcFs(procRoot);
        this.locks = new LockHolders(procRoot);
        this.helper = helper;
        this.execTimeout = execTimeout;
    }

    private static Path helperDir(BundleContext context, String configured) {
        if (!configured.isBlank()) {
            return Path.of(configured);
        }
        File data = context.getDataFile("bin");
        if (data == null) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR,
                    "no bundle data area for the exec helper: configure helper.dir");
        }
        return data.toPath();
    }

    @Override
    public ProcessIdentity spawn(SpawnRequest request, Consumer<ProcessIdentity> beforeExec) {
        String binary = request.argv().get(0);
        if (!binary.startsWith("/")) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "the binary must be an absolute path: " + binary);
        }
        if (request.uid() >= 0 && request.gid() < 0) {
            throw new KvmtoolException(ErrorCode.INVALID_ARG, "uid " + request.uid() + " given without a gid");
        }
        List<String> argv = helperArgv(helper.toString(), request);
        List<String> env = List.of("HOME=" + request.homeDir(), PATH);
        int[] report;
        int[] go;
        int pid = -1;
        try {
            report = posix.pipe();
        } catch (SysCallException e) {
            throw cannotStart(binary, e);
        }
        try {
            go = posix.pipe();
        } catch (SysCallException e) {
            posix.close(report[0]);
            posix.close(report[1]);
            throw cannotStart(binary, e);
        }
        try {
            try {
                pid = posix.spawn(helper.toString(), argv, env, request.stdioFd(), report[1], go[0]);
            } finally {
                posix.close(report[1]); // else the read below never sees EOF
                posix.close(go[0]);
            }
            hold(pid, request.argv(), beforeExec);
            posix.writeIgnoringEpipe(go[1], GO); // a helper that already failed has closed its end: its report says why
            String failure = readReport(report[0], pid, binary);
            if (!failure.isEmpty()) {
                reap(pid);
                throw HelperFailure.toException(failure, request.uid(), request.gid(), posix::strerror, locks::of);
            }
        } catch (SysCallException e) {
            if (pid > 0) {
                killAndReap(pid); // held or half-started: never left as an unreaped child
            }
            throw cannotStart(binary, e);
        } finally {
            posix.close(go[1]);
            posix.close(report[0]);
        }
        return settledIdentity(pid, request.argv());
    }

    private static final byte[] GO = {'g'};

    /**
     * Runs {@code beforeExec} while the helper waits for its go byte. If it throws, the helper is killed (our
     * unreaped child: the pid cannot be someone else's) before it could exec.
     */
    private void hold(int pid, List<String> argv, Consumer<ProcessIdentity> beforeExec) {
        try {
            // the start time does not change at exec, and the argv is what execve will be given
            long startTime = proc.read(pid).orElseThrow(() -> new KvmtoolException(ErrorCode.SYSTEM_ERROR,
                    "the exec helper (pid " + pid + ") vanished right after spawn")).startTime();
            beforeExec.accept(new ProcessIdentity(pid, startTime, argv));
        } catch (RuntimeException e) {
            killAndReap(pid);
            throw e;
        }
    }

    /**
     * The identity after exec. The error pipe hits EOF when exec closes descriptors, a moment before
     * the kernel has laid out the new argv: until then /proc/PID/cmdline reads empty, and an identity
     * taken there would never match again. So wait (microseconds) for the argv; an lkvm that already
     * died keeps none, and then the argv is exactly what execve received.
     */
    private ProcessIdentity settledIdentity(int pid, List<String> argv) {
        long deadline = System.nanoTime() + 1_000_000_000L;
        while (true) {
            ProcFs.Snapshot s = proc.read(pid).orElseThrow(() -> new KvmtoolException(ErrorCode.SYSTEM_ERROR,
                    argv.get(0) + " (pid " + pid + ") vanished right after exec"));
            if (!s.cmdline().isEmpty()) {
                return new ProcessIdentity(pid, s.startTime(), s.cmdline());
            }
            if (s.zombie() || System.nanoTime() > deadline) {
                return new ProcessIdentity(pid, s.startTime(), argv);
            }
            Thread.onSpinWait();
        }
    }

    /** Reads the helper's report: empty at EOF (exec done), else its one line. Bounded by execTimeout. */
    private String readReport(int fd, int pid, String binary) throws SysCallException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[512];
        long deadline = System.nanoTime() + execTimeout.toNanos();
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0 || !posix.pollIn(fd, (int) left)) {
                killAndReap(pid);
                throw new KvmtoolException(ErrorCode.OPERATION_TIMEOUT,
                        "starting " + binary + " did not reach exec within " + execTimeout.toMillis() + " ms");
            }
            int n = posix.read(fd, buf);
            if (n == 0) {
                return out.toString(StandardCharsets.UTF_8);
            }
            out.write(buf, 0, n);
        }
    }

    private static KvmtoolException cannotStart(String binary, SysCallException e) {
        return new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot start " + binary + ": " + e.getMessage(), e);
    }

    /** Our unreaped child, so the pid cannot be someone else's: SIGKILL (it may have ended already), then reap. */
    private void killAndReap(int pid) {
        try {
            posix.kill(pid, Posix.SIGKILL);
        } catch (SysCallException gone) {
            // ended by itself: reaped below all the same
        }
        reap(pid);
    }

    private void reap(int pid) {
        try {
            posix.waitpid(pid);
        } catch (SysCallException ignored) {
            // ECHILD: someone else reaped it; nothing left to do
        }
    }

    static List<String> helperArgv(String helper, SpawnRequest request) {
        List<String> argv = new ArrayList<>();
        argv.add(helper);
        for (String procs : request.cgroupProcsFiles()) {
            argv.add("-c");
            argv.add(procs);
        }
        if (request.uid() >= 0 || !request.supplementaryGroups().isEmpty()) {
            argv.add("-G");
            argv.add(request.supplementaryGroups().stream().map(String::valueOf).collect(Collectors.joining(",")));
        }
        if (request.gid() >= 0) {
            argv.add("-g");
            argv.add(Integer.toString(request.gid()));
        }
        if (request.uid() >= 0) {
            argv.add("-u");
            argv.add(Integer.toString(request.uid()));
        }
        InputFiles files = InputFiles.of(request.argv());
        for (String f : files.readable()) {
            argv.add("-r");
            argv.add(f);
        }
        for (String f : files.writable()) {
            argv.add("-w");
            argv.add(f);
        }
        for (ImageLock lock : request.locks()) {
            argv.add(lock.exclusive() ? "-x" : "-s");
            argv.add(lock.label() + "=" + lock.path());
        }
        argv.add("--");
        argv.addAll(request.argv());
        return argv;
    }

    @Override
    public Optional<ProcessIdentity> identify(long pid) {
        return proc.identity(pid);
    }

    @Override
    public boolean isAlive(ProcessIdentity recorded) {
        return proc.matches(recorded);
    }

    /** In the kernel: the pidfd turns readable when the process ends. */
    @Override
    public boolean awaitExit(ProcessIdentity recorded, Duration timeout) {
        Optional<Pidfd> opened = Pidfd.open(posix, proc, recorded, true);
        if (opened.isEmpty()) {
            return true;
        }
        try (Pidfd pidfd = opened.get()) {
            return pidfd.awaitExit(timeout.toMillis());
        } catch (SysCallException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot wait for process " + recorded.pid() + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public void signal(ProcessIdentity process, int signal) {
        Pidfd pidfd = Pidfd.open(posix, proc, process, false).orElseThrow(() -> new KvmtoolException(
                ErrorCode.OPERATION_FAILED, "process " + process.pid() + " is no longer running"));
        try (pidfd) {
            pidfd.signal(signal);
        } catch (SysCallException e) {
            throw new KvmtoolException(e.errno() == Posix.ESRCH ? ErrorCode.OPERATION_FAILED : ErrorCode.SYSTEM_ERROR,
                    "cannot signal process " + process.pid() + ": " + e.getMessage(), e);
        }
    }
}
