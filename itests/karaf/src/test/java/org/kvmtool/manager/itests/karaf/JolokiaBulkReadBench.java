package org.kvmtool.manager.itests.karaf;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.junit.Test;

/**
 * Harness, not a test (its name keeps it out of failsafe's default run): run with
 * {@code mvn -pl itests/lkvm-standin,itests/guest,itests/karaf -am verify -Dit.test=JolokiaBulkReadBench}. In the distribution, with 1,000
 * defined domains of which 200 run on the lkvm stand-in, times over HTTP at /jolokia, as the viewer: a read of
 * one attribute of one domain, then State, CpuTimeNanos and MemoryUsageBytes of every domain in one pattern
 * read and in one bulk request of 1,000 reads. Prints medians and the ratios to the one-attribute read. The
 * running guests are the stand-in's idle marker guest (cpu-percent=0), so that 200 of them fit on a small
 * machine.
 */
public class JolokiaBulkReadBench extends KarafTestSupport {
    private static final int DOMAINS = 1000;
    private static final int RUNNING = 200;
    private static final int START_ATTEMPTS = 3;

    /** Session mode: lkvm runs as the manager's user (system mode would want the host's lkvm.user). */
    @Override
    protected Map<String, String> managerConfig(Path work) {
        Map<String, String> config = super.managerConfig(work);
        config.put("uri", "kvmtool:///session");
        return config;
    }

    @Test
    public void bulkReadOfAThousandDomainsNextToAOneAttributeRead() throws Exception {
        awaitBootFinished();
        assertTrue("kvmtool-core (the driver) is not in this distribution yet", JmxDoorsIT.driverLanded(bundleContext));
        MBeanServer platform = ManagementFactory.getPlatformMBeanServer();
        ObjectName manager = new ObjectName("kvmtool:type=Manager");
        JmxDoorsIT.awaitTrue("the Manager MBean", () -> platform.isRegistered(manager));
        try {
            measure(platform, manager);
        } finally {
            JmxDoorsIT.removeAll(platform);
        }
    }

    private void measure(MBeanServer platform, ObjectName manager) throws Exception {
        // the stand-in's marker guest with idle vCPUs: 200 test guests would each spin 10% of a CPU
        Path idleGuest = java.nio.file.Files.writeString(workDir().resolve("idle-guest"),
                "KVMTOOL-STANDIN cpu-percent=0\n");
        long t0 = System.nanoTime();
        for (int i = 0; i < DOMAINS; i++) {
            platform.invoke(manager, "defineDomain", new Object[] {JmxDoorsIT.xml(String.format("b%04d", i),
                    idleGuest.toString())}, new String[] {String.class.getName()});
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < RUNNING; i++) {
            ObjectName vm = JmxDoorsIT.domainName(String.format("b%04d", i));
            JmxDoorsIT.awaitTrue(vm + " registered", () -> platform.isRegistered(vm));
            start(platform, vm);
        }
        long t2 = System.nanoTime();
        JmxDoorsIT.awaitTrue("all registered", () -> platform.queryNames(JmxDoorsIT.name("kvmtool:type=Domain,*"),
                null).size() == DOMAINS);
        System.out.printf(Locale.ROOT, "%ndefined %d domains in %.1f s, started %d in %.1f s%n", DOMAINS,
                (t1 - t0) / 1e9, RUNNING, (t2 - t1) / 1e9);
        assertEquals(RUNNING, ((String[]) platform.getAttribute(manager, "ActiveDomainNames")).length);

        String one = "{\"type\":\"read\",\"mbean\":\"kvmtool:type=Domain,name=b0001\",\"attribute\":\"State\"}";
        String pattern = "{\"type\":\"read\",\"mbean\":\"kvmtool:type=Domain,*\",\"attribute\":"
                + "[\"State\",\"CpuTimeNanos\",\"MemoryUsageBytes\"]}";
        StringBuilder bulk = new StringBuilder("[");
        for (int i = 0; i < DOMAINS; i++) {
            bulk.append(i == 0 ? "" : ",").append("{\"type\":\"read\",\"mbean\":\"kvmtool:type=Domain,name=")
                    .append(String.format("b%04d", i)).append("\",\"attribute\":[\"State\",\"CpuTimeNanos\","
                    + "\"MemoryUsageBytes\"]}");
        }
        bulk.append(']');
        double single = time("POST read State of one domain", 200, one);
        double patternRead = time("POST pattern read x3 attributes, 1000 domains", 30, pattern);
        double bulkRead = time("POST bulk of 1000 reads x3 attributes", 30, bulk.toString());
        System.out.printf(Locale.ROOT, "  ratios to the one-attribute read: pattern %.0f, bulk %.0f; load average %.1f%n",
                patternRead / single, bulkRead / single, ManagementFactory.getOperatingSystemMXBean()
                        .getSystemLoadAverage());
    }

    /** A loaded machine may miss the driver's start-up deadline (OPERATION_TIMEOUT): a harness tries again. */
    private static void start(MBeanServer platform, ObjectName vm) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                platform.invoke(vm, "start", null, null);
                return;
            } catch (javax.management.RuntimeMBeanException e) {
                if (attempt == START_ATTEMPTS) {
                    throw e;
                }
                System.out.println("  start of " + vm.getKeyProperty("name") + " failed, again: "
                        + e.getTargetException().getMessage());
                Thread.sleep(1000);
            }
        }
    }

    private double time(String label, int runs, String json) throws Exception {
        for (int i = 0; i < Math.max(3, runs / 4); i++) {
            check(jolokiaPost(json, VIEWER_USER, VIEWER_PASSWORD));
        }
        long[] nanos = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            check(jolokiaPost(json, VIEWER_USER, VIEWER_PASSWORD));
            nanos[i] = System.nanoTime() - t0;
        }
        Arrays.sort(nanos);
        double median = nanos[runs / 2] / 1e6;
        System.out.printf(Locale.ROOT, "  %-50s median %8.2f ms, min %8.2f, p90 %8.2f%n", label, median,
                nanos[0] / 1e6, nanos[runs * 9 / 10] / 1e6);
        return median;
    }

    private static void check(HttpAnswer answer) {
        if (answer.status() != 200 || answer.body().contains("\"status\":4") || answer.body().contains("\"status\":5")) {
            throw new AssertionError(answer.body().substring(0, Math.min(500, answer.body().length())));
        }
    }
}
