package org.kvmtool.manager.contract;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Measures spawn -> socket answering PID (p50/p90/max over RUNS starts) and RSS with -m 64, for the stand-in
 * and, when KVMTOOL_LKVM is set, the real lkvm in the same run. A harness that prints figures, not a test:
 * {@code mvn -pl itests/contract verify -Dgroups=bench -DexcludedGroups=none [-Dbench.runs=50]}.
 */
@Tag("bench")
class SpawnBenchTest {
    private static final Duration T = Duration.ofSeconds(10);

    @Test
    void spawnToSocketAndRss() throws Exception {
        int runs = Integer.getInteger("bench.runs", 50);
        Map<String, Path> binaries = new LinkedHashMap<>();
        binaries.put("stand-in", Path.of(System.getProperty("kvmtool.standin.lkvm")));
        String real = System.getenv("KVMTOOL_LKVM");
        if (real != null && !real.isEmpty()) {
            binaries.put("real lkvm", Path.of(real));
        }
        Path guest = LkvmContract.guest();
        Map<String, Double> p50s = new LinkedHashMap<>();
        for (Map.Entry<String, Path> b : binaries.entrySet()) {
            List<Double> ms = new ArrayList<>();
            long rssReady = 0;
            long rssTouched = 0;
            try (Lkvm lkvm = new Lkvm(b.getValue())) {
                for (int i = 0; i < runs; i++) {
                    Lkvm.Instance vm = lkvm.run("b" + i, guest, 64, 1);
                    ms.add(vm.awaitReady(T).toNanos() / 1e6);
                    if (i == 0) {
                        vm.awaitVcpus(1, T);
                        rssReady = vm.rssKiB();
                        vm.pty().await("GUEST READY\r\n", T);
                        vm.pty().write("!");
                        vm.pty().await("\r\n!", Duration.ofSeconds(30));
                        rssTouched = vm.rssKiB();
                    }
                    vm.process().destroyForcibly();
                    vm.awaitExit(T);
                }
            }
            ms.sort(Double::compare);
            double p50 = ms.get(ms.size() / 2);
            p50s.put(b.getKey(), p50);
            System.out.printf("%-10s spawn->socket answers PID over %d runs: p50 %.1f ms, p90 %.1f ms, max %.1f ms;"
                    + " RSS -m 64: %d KiB at ready, %d KiB once the guest touched its RAM%n", b.getKey(), runs, p50,
                    ms.get(ms.size() * 9 / 10), ms.get(ms.size() - 1), rssReady, rssTouched);
        }
        if (p50s.size() == 2) {
            System.out.printf("stand-in p50 / real lkvm p50 = %.2f%n", p50s.get("stand-in") / p50s.get("real lkvm"));
        }
    }
}
