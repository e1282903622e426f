package org.kvmtool.manager.launch;

import org.kvmtool.manager.api.HypervisorInfo;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Finds lkvm and asks its version. Never throws: what went wrong becomes the reason. */
final class HypervisorProbe {
    private static final Pattern VERSION = Pattern.compile("kvm tool\\s+(\\S+)");
    private static final List<String> FALLBACKS = List.of("/usr/bin/lkvm", "/usr/local/bin/lkvm");

    private final String searchPath;
    private final long timeoutMillis;

    /** @param searchPath a PATH-style list of directories where {@code lkvm} is looked for */
    HypervisorProbe(String searchPath, long timeoutMillis) {
        this.searchPath = searchPath == null ? "" : searchPath;
        this.timeoutMillis = timeoutMillis;
    }

    /** Where to look, in order: the configured binary alone, else lkvm on the search path, then the fallbacks. */
    static List<Path> candidates(String configured, String searchPath) {
        if (configured != null && !configured.isBlank()) {
            return List.of(Path.of(configured.strip()));
        }
        List<Path> out = new ArrayList<>();
        for (String dir : searchPath.split(File.pathSeparator)) {
            if (!dir.isBlank() && dir.startsWith("/")) {
                out.add(Path.of(dir, "lkvm"));
            }
        }
        FALLBACKS.forEach(f -> out.add(Path.of(f)));
        return out;
    }

    /** "kvm tool 3.18.0" -> "3.18.0"; null if the text has no version. */
    static String parseVersion(String output) {
        Matcher m = VERSION.matcher(output);
        return m.find() ? m.group(1) : null;
    }

    HypervisorInfo probe(String configured) {
        List<Path> candidates = candidates(configured, searchPath);
        Path binary = candidates.stream().filter(Files::isRegularFile).findFirst().orElse(null);
        if (binary == null) {
            String where = configured != null && !configured.isBlank() ? "configured binary " + configured.strip()
                    + " not found" : "lkvm not found on PATH, nor at " + String.join(", ", FALLBACKS);
            return unavailable(configured, where);
        }
        String name = binary.toAbsolutePath().toString();
        if (!Files.isExecutable(binary)) {
            return unavailable(name, name + " is not executable");
        }
        try {
            ProcessBuilder pb = new ProcessBuilder(name, "version").redirectErrorStream(true);
            Map<String, String> env = pb.environment();
            env.clear();
            env.put("PATH", PosixProcessSpawner.PATH.substring("PATH=".length()));
            Process p = pb.start();
            p.getOutputStream().close();
            if (!p.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(1, TimeUnit.SECONDS); // reaped before we return
                return unavailable(name, "`" + name + " version` did not finish within " + timeoutMillis + " ms");
            }
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            String version = parseVersion(output);
            if (p.exitValue() != 0 || version == null) {
                return unavailable(name, "`" + name + " version` exited " + p.exitValue() + ": "
                        + (output.isEmpty() ? "(no output)" : output.lines().findFirst().orElse("")));
            }
            return new HypervisorInfo(name, true, version, null);
        } catch (IOException e) {
            return unavailable(name, "cannot run " + name + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unavailable(name, "interrupted while probing " + name);
        }
    }

    private static HypervisorInfo unavailable(String binary, String reason) {
        return new HypervisorInfo(binary == null || binary.isBlank() ? "lkvm" : binary, false, null, reason);
    }
}
