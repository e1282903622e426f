package org.kvmtool.manager.core;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;

import org.kvmtool.manager.api.CgroupRef;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.ProcessIdentity;
import org.kvmtool.manager.api.StateReason;

/** One status file per active domain, {@code runDir/NAME.status}, in key=value form, written atomically. */
final class StatusStore {
    private static final String SUFFIX = ".status";
    private final Path dir;
    private final AtomicFile files;

    StatusStore(Path dir, AtomicFile files) {
        this.dir = dir;
        this.files = files;
    }

    Path path(String name) {
        return dir.resolve(name + SUFFIX);
    }

    void write(DomainStatus s) {
        files.write(path(s.name()), format(s).getBytes(StandardCharsets.UTF_8));
    }

    void delete(String name) {
        // Not fsynced: it sits on the path of every shutoff event (an fsync there cost 5-200 ms), and a
        // deletion lost in a crash is harmless, as reattach finds the recorded lkvm gone and says shutoff.
        files.delete(path(name), false);
    }

    /** The status files there are (read them with {@link #load}: side by side, at an activation). */
    List<Path> files() {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            ds.forEach(out::add);
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "cannot list " + dir + ": " + AtomicFile.reason(e), e);
        }
        return out;
    }

    DomainStatus load(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8));
    }

    /** The domain a status file is about, from its file name (which holds whether the content is readable or not). */
    static String nameOf(Path file) {
        String f = file.getFileName().toString();
        return f.substring(0, f.length() - SUFFIX.length());
    }

    /**
     * The recorded live definition of a status file that does not parse as a whole: each line is read on its
     * own (the format keeps one value a line), so a damaged line elsewhere does not take the definition with it.
     */
    static java.util.Optional<String> salvageDefinition(String text) {
        for (String line : text.split("\n")) {
            if (!line.startsWith("definition=")) {
                continue;
            }
            Properties p = new Properties();
            try {
                p.load(new StringReader(line));
                return java.util.Optional.ofNullable(p.getProperty("definition"));
            } catch (IOException | RuntimeException damaged) {
                return java.util.Optional.empty();
            }
        }
        return java.util.Optional.empty();
    }

    static String format(DomainStatus s) {
        TreeMap<String, String> m = new TreeMap<>();
        m.put("name", s.name());
        m.put("uuid", s.uuid().toString());
        m.put("id", Integer.toString(s.id()));
        m.put("pid", Long.toString(s.process().pid()));
        m.put("starttime", Long.toString(s.process().startTime()));
        List<String> cmd = s.process().cmdline();
        m.put("cmdline.count", Integer.toString(cmd.size()));
        for (int i = 0; i < cmd.size(); i++) {
            m.put("cmdline." + i, cmd.get(i));
        }
        m.put("started.millis", Long.toString(s.startedAtMillis()));
        put(m, "pty", s.ptySlave());
        if (s.cgroup() != null) {
            m.put("cgroup.name", s.cgroup().name());
            m.put("cgroup.unified", Boolean.toString(s.cgroup().unified()));
            m.put("cgroup.dirs.count", Integer.toString(s.cgroup().dirs().size()));
            for (int i = 0; i < s.cgroup().dirs().size(); i++) {
                m.put("cgroup.dirs." + i, s.cgroup().dirs().get(i));
            }
        }
        put(m, "home", s.homeDir());
        put(m, "socket", s.socketPath());
        m.put("state", s.reason().state().word());
        m.put("reason", s.reason().name());
        m.put("stop.requested", Boolean.toString(s.stopRequested()));
        m.put("memory.current", Long.toString(s.currentMemoryBytes()));
        m.put("definition", s.definitionXml());
        Properties p = new Properties();
        p.putAll(m);
        StringWriter w = new StringWriter();
        try {
            // Properties.store escapes newlines and non-Latin-1 is written as \\u escapes: one value per line
            p.store(w, "kvmtool-manager domain status");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return w.toString();
    }

    static DomainStatus parse(String text) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
        List<String> cmd = list(p, "cmdline");
        CgroupRef cg = p.getProperty("cgroup.name") == null ? null
                : new CgroupRef(p.getProperty("cgroup.name"), list(p, "cgroup.dirs"),
                Boolean.parseBoolean(p.getProperty("cgroup.unified")));
        return new DomainStatus(req(p, "name"), UUID.fromString(req(p, "uuid")), Integer.parseInt(req(p, "id")),
                new ProcessIdentity(Long.parseLong(req(p, "pid")), Long.parseLong(req(p, "starttime")), cmd),
                Long.parseLong(p.getProperty("started.millis", "0")), p.getProperty("pty"), cg,
                p.getProperty("home"), p.getProperty("socket"), StateReason.valueOf(req(p, "reason")),
                Boolean.parseBoolean(p.getProperty("stop.requested")),
                Long.parseLong(p.getProperty("memory.current", "0")), req(p, "definition"));
    }

    private static void put(TreeMap<String, String> m, String k, String v) {
        if (v != null) {
            m.put(k, v);
        }
    }

    private static List<String> list(Properties p, String key) {
        int n = Integer.parseInt(p.getProperty(key + ".count", "0"));
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(req(p, key + "." + i));
        }
        return out;
    }

    private static String req(Properties p, String k) {
        String v = p.getProperty(k);
        if (v == null) {
            throw new IllegalArgumentException("missing '" + k + "'");
        }
        return v;
    }
}
