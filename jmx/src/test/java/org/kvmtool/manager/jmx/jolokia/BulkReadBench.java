package org.kvmtool.manager.jmx.jolokia;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import javax.security.auth.Subject;

import org.jolokia.restrictor.AllowAllRestrictor;
import org.jolokia.restrictor.Restrictor;
import org.json.simple.JSONAware;
import org.json.simple.JSONObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.testing.FakeDomainDriver;
import org.kvmtool.manager.jmx.TestAccess;

/**
 * Harness, not a test (run with -Pbench): State, CpuTimeNanos and MemoryUsageBytes of 1,000 defined domains
 * (200 running) in one read, next to a read of one attribute, in the same run: straight on the MBeanServer,
 * and through Jolokia 1.7.1's pipeline (no HTTP) with kvmtool's restrictor asking a Karaf security MBean
 * stand-in, and with Jolokia's allow-all restrictor for comparison. The driver is the in-memory fake: these
 * figures are the JMX and Jolokia share of the cost, not the cgroup reads'.
 */
@Tag("bench")
class BulkReadBench {
    private static final int DOMAINS = 1000;
    private static final int RUNNING = 200;
    private static final String[] THREE = {"State", "CpuTimeNanos", "MemoryUsageBytes"};
    private static final Subject VIEWER = FakeKarafSecurity.subject("viewer");
    private static final AclLayout LAYOUT = new AclLayout(() -> AclRestrictorTest.KARAF_PIDS, java.util.List::of);

    @Test
    void bulkReadVersusOneAttribute() throws Exception {
        MBeanServer platform = ManagementFactory.getPlatformMBeanServer();
        ObjectName securityName = new ObjectName("org.apache.karaf:type=security,area=jmx,name=bench");
        platform.registerMBean(new StandardMBean(new FakeKarafSecurity(), FakeKarafSecurityMBean.class),
                securityName);
        FakeDomainDriver driver = TestAccess.driver();
        TestAccess.populate(driver, DOMAINS, RUNNING);
        try (AutoCloseable published = TestAccess.publish(driver, platform)) {
            TestAccess.awaitIdle(published);
            ObjectName one = new ObjectName("kvmtool:type=Domain,name=vm0001");
            ObjectName[] all = platform.queryNames(new ObjectName("kvmtool:type=Domain,*"), null)
                    .toArray(new ObjectName[0]);
            assertEquals(DOMAINS, all.length);

            System.out.printf(Locale.ROOT, "%n%d domains (%d running); per call: median (min) of the timed runs%n",
                    DOMAINS, RUNNING);
            double mbsOne = time("MBeanServer  getAttribute State, 1 domain", 20_000,
                    () -> get(platform, one, "State"));
            double mbsAll = time("MBeanServer  getAttributes x3, 1000 domains", 200,
                    () -> Arrays.stream(all).mapToInt(n -> getAll(platform, n).size()).sum());
            System.out.printf(Locale.ROOT, "  ratio bulk/one: %.0f%n", mbsAll / mbsOne);

            Restrictor kvmtool = new AclRestrictor(RestrictorComponent.loadPolicy(AclRestrictorTest.SHIPPED_POLICY),
                    new KarafJmxSecurity(platform, "org.apache.karaf:type=security,area=jmx,*"), LAYOUT);
            for (Restrictor restrictor : new Restrictor[] {kvmtool, new AllowAllRestrictor()}) {
                String label = restrictor == kvmtool ? "kvmtool restrictor" : "allow-all";
                try (JolokiaDoor jolokia = new JolokiaDoor(restrictor)) {
                    double jOne = time("Jolokia (" + label + ") read State, 1 domain", 5_000,
                            () -> ok(jolokia.get(VIEWER, null, "read/kvmtool:type=Domain,name=vm0001/State")));
                    double jPattern = time("Jolokia (" + label + ") pattern read x3, 1000 domains", 50,
                            () -> ok(jolokia.post(VIEWER, null, "{\"type\":\"read\",\"mbean\":\"kvmtool:type=Domain,*\","
                                    + "\"attribute\":[\"State\",\"CpuTimeNanos\",\"MemoryUsageBytes\"]}")));
                    String bulk = bulkOfReads(all);
                    double jBulk = time("Jolokia (" + label + ") bulk of 1000 reads x3", 50,
                            () -> jolokia.bulk(VIEWER, bulk).size());
                    System.out.printf(Locale.ROOT, "  ratios pattern/one: %.0f, bulk/one: %.0f%n", jPattern / jOne,
                            jBulk / jOne);
                }
            }
        } finally {
            platform.unregisterMBean(securityName);
        }
    }

    private static String bulkOfReads(ObjectName[] names) {
        StringBuilder b = new StringBuilder("[");
        for (ObjectName n : names) {
            b.append(b.length() > 1 ? "," : "").append("{\"type\":\"read\",\"mbean\":\"").append(n)
                    .append("\",\"attribute\":[\"State\",\"CpuTimeNanos\",\"MemoryUsageBytes\"]}");
        }
        return b.append(']').toString();
    }

    private static Object ok(JSONAware answer) {
        long status = JolokiaDoor.status(answer);
        if (status != 200) {
            throw new AssertionError(((JSONObject) answer).toJSONString());
        }
        return answer;
    }

    private static Object get(MBeanServer server, ObjectName name, String attribute) {
        try {
            return server.getAttribute(name, attribute);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static javax.management.AttributeList getAll(MBeanServer server, ObjectName name) {
        try {
            javax.management.AttributeList list = server.getAttributes(name, THREE);
            if (list.size() != 3) {
                throw new AssertionError(name + ": " + list);
            }
            return list;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Runs {@code body} (warm-up: as many again), prints and returns the median milliseconds per call. */
    private static double time(String label, int runs, Supplier<Object> body) {
        for (int i = 0; i < runs; i++) {
            body.get();
        }
        long[] nanos = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            body.get();
            nanos[i] = System.nanoTime() - t0;
        }
        Arrays.sort(nanos);
        double median = nanos[runs / 2] / 1e6;
        System.out.printf(Locale.ROOT, "  %-58s %9.3f ms (%.3f)%n", label, median, nanos[0] / 1e6);
        return median;
    }
}
