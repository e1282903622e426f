package org.kvmtool.manager.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Files lent to lkvm's user across a kill -9 of Karaf in the middle of two runs (system mode, so root only):
 * the guest that lives on keeps its files and its image lock, and gives them back when destroyed after the
 * restart; the guest killed while Karaf was away gets them back at the restart. Both kernels and disks are
 * root-owned 0600 files.
 * {@code mvn -B -o -pl itests/bench verify -Dgroups=faults-restart -DexcludedGroups=none -Dtest=KarafLendingFaultTest}
 */
@Tag("faults-restart")
class KarafLendingFaultTest {
    static final String USER = "kvmtool-itest";
    static final Duration SETTLE = Duration.ofSeconds(15);

    @Test
    void karafKilledMidRunThenRestartedGivesEveryFileBack() throws Exception {
        assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"), "system mode needs root");
        assumeTrue(run("id", USER) == 0
                || run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER) == 0,
                "the user " + USER + " cannot be created");
        String real = System.getenv("KVMTOOL_LKVM");
        Path lkvm = Path.of(real != null && !real.isEmpty() ? real : System.getProperty("kvmtool.standin.lkvm"));
        String lent = Product.run(Path.of("/"), Duration.ofSeconds(10), "id", "-u", USER).trim() + ":"
                + Product.run(Path.of("/"), Duration.ofSeconds(10), "id", "-g", USER).trim() + ":600";
        try (Product p = new Product(lkvm, Map.of("uri", "kvmtool:///system", "lkvm.user", USER,
                "shutdown.timeout.seconds", "2"))) {
            // lkvm's user must reach its HOME under the run dir and the images: directories are never lent
            Files.setPosixFilePermissions(p.state, PosixFilePermissions.fromString("rwx--x--x"));
            Path images = Files.createDirectories(p.state.resolve("img"));
            Path guest = Path.of(System.getProperty("kvmtool.test.guest"));
            Map<String, List<Path>> files = Map.of(
                    "lives", List.of(rootOnly(Files.copy(guest, images.resolve("k1"))), rootOnly(Files.write(images.resolve("d1"), new byte[1 << 20]))),
                    "dies", List.of(rootOnly(Files.copy(guest, images.resolve("k2"))), rootOnly(Files.write(images.resolve("d2"), new byte[1 << 20]))));
            p.start();
            for (var e : files.entrySet()) {
                p.define(xml(e.getKey(), e.getValue().get(0), e.getValue().get(1)));
                p.startDomain(e.getKey());
                for (Path f : e.getValue()) {
                    assertEquals(lent, owner(f), f + " lent while " + e.getKey() + " runs");
                }
            }
            long lives = p.pid("lives");
            long dies = p.pid("dies");
            p.kill9();
            ProcessHandle.of(dies).orElseThrow().destroyForcibly(); // while Karaf is away
            Campaign.await(Duration.ofSeconds(10), () -> ProcessHandle.of(dies).isEmpty() || Campaign.isZombie(dies),
                    () -> "lkvm " + dies + " ended");
            assertTrue(flockOf(files.get("lives").get(1)).contains(lives + " WRITE"), "lkvm keeps its image lock meanwhile");
            long ms = p.start();
            System.out.printf("FAULT kill -9 Karaf mid-run (system mode): restart %d ms%n", ms);
            Campaign.assertStateTrueNow(p, "the restart");
            assertEquals(lives, p.pid("lives"), "adopted");
            for (Path f : files.get("dies")) {
                Campaign.await(SETTLE, () -> owner(f).equals("0:0:600"), () -> f + " given back at the restart: " + owner(f));
            }
            for (Path f : files.get("lives")) {
                assertEquals(lent, owner(f), f + " stays lent to the adopted run");
            }
            p.exec(Product.domain("lives"), "destroy");
            for (Path f : files.get("lives")) {
                Campaign.await(SETTLE, () -> owner(f).equals("0:0:600"), () -> f + " given back after destroy: " + owner(f));
            }
            assertEquals("", flockOf(files.get("lives").get(1)), "no lock left");
            Campaign.assertTruth(p, SETTLE);
            System.out.println("FAULT kill -9 Karaf mid-run: the dead run's files back at the restart, the live one's after destroy");
        }
    }

    static String xml(String name, Path kernel, Path disk) {
        return "<domain type='kvmtool'><name>" + name + "</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
                + "<os><type>hvm</type><kernel>" + kernel + "</kernel></os><devices><disk type='file' device='disk'>"
                + "<source file='" + disk + "'/><target dev='vda' bus='virtio'/></disk></devices></domain>";
    }

    static Path rootOnly(Path p) throws IOException {
        Files.setAttribute(p, "unix:uid", 0);
        Files.setAttribute(p, "unix:gid", 0);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        return p;
    }

    static String owner(Path p) {
        try {
            Map<String, Object> a = Files.readAttributes(p, "unix:uid,gid,mode");
            return a.get("uid") + ":" + a.get("gid") + ":" + Integer.toOctalString((Integer) a.get("mode") & 07777);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** "PID KIND" of each flock on the file, from the kernel's lock table. */
    static String flockOf(Path p) throws IOException {
        String ino = ":" + Files.getAttribute(p, "unix:ino");
        StringBuilder out = new StringBuilder();
        for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 5 && f[1].equals("FLOCK") && f[5].endsWith(ino)) {
                out.append(f[4]).append(' ').append(f[3]).append('\n');
            }
        }
        return out.toString();
    }

    static int run(String... cmd) throws IOException, InterruptedException {
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }
}
