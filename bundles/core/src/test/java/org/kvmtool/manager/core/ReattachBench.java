package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long activation takes with N running stand-in guests to adopt (a harness that prints figures, not a
 * timed test): baseline = activation with the same definitions and no guest running, measured in the
 * same run. Run: mvn -B -pl bundles/core -am verify -Dgroups=bench -DexcludedGroups=none -Dtest=ReattachBench
 * -Dsurefire.failIfNoSpecifiedTests=false [-Dreattach.counts=10,100,200]
 */
@Tag("bench")
class ReattachBench {
    @Test
    void reattachTenAndHundred(@TempDir Path tmp) throws Exception {
        String why = RealHost.unavailable(tmp);
        assumeTrue(why == null, why);
        // -Dreattach.counts=10,100,200 (the 200 of the product benchmark)
        for (int n : java.util.Arrays.stream(System.getProperty("reattach.counts", "10,100").split(","))
                .mapToInt(Integer::parseInt).toArray()) {
            try (RealHost h = new RealHost(tmp.resolve("n" + n))) {
                // idle guests (the stand-in's vCPU otherwise spins 10 % of a core each: 100 of them swamp 2 cores)
                Path kernel = java.nio.file.Files.writeString(tmp.resolve("idle-" + n + ".img"), "KVMTOOL-STANDIN cpu-percent=0\n");
                KvmtoolDriver d = h.activate();
                for (int i = 0; i < n; i++) {
                    d.define(RealHost.xml("b" + i).replace("<memory unit='MiB'>64</memory>", "<memory unit='MiB'>16</memory>")
                            .replace(RealHost.GUEST, kernel.toString()));
                }
                long p0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    h.services.codec().parse(d.dumpXml("b" + i));
                }
                double parse = (System.nanoTime() - p0) / 1e6;
                d.deactivate();
                double base = activationMillis(h, 0, 5);
                h.activate();
                for (int i = 0; i < n; i++) {
                    h.driver.start("b" + i);
                }
                h.driver.deactivate();
                double adopt = activationMillis(h, n, 5);
                System.out.printf("reattach of %d running guests: %.1f ms (median of 5; baseline with none running %.1f ms;"
                        + " %.2f ms per guest; ratio %.1f; parsing the %d definitions alone %.1f ms)%n", n, adopt, base,
                        (adopt - base) / n, adopt / base, n, parse);
            }
        }
    }

    private static double activationMillis(RealHost h, int expectAdopted, int rounds) {
        double[] t = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            KvmtoolDriver d = h.activate();
            t[r] = (System.nanoTime() - t0) / 1e6;
            assertEquals(expectAdopted, d.reattached().adopted());
            if (r < rounds - 1) {
                d.deactivate();
            }
        }
        java.util.Arrays.sort(t);
        return t[rounds / 2];
    }
}
