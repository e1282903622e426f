package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.core.fakes.FakeCodec;
import org.kvmtool.manager.core.fakes.FakeHost;

/** 100 threads, random operations, 5 domains: never two lkvm for one domain, nothing leaked, only expected errors. */
class ContentionTest extends FakeHostTest {
    private static final EnumSet<ErrorCode> EXPECTED = EnumSet.of(ErrorCode.OPERATION_INVALID, ErrorCode.OPERATION_TIMEOUT,
            ErrorCode.NO_DOMAIN);

    @Test
    void hundredThreadsOnFiveDomains() throws Exception {
        List<String> names = List.of("d0", "d1", "d2", "d3", "d4");
        Map<String, String> xml = new ConcurrentHashMap<>();
        for (String n : names) {
            driver.define(FakeCodec.xml(n, "<on_crash>restart</on_crash>"));
            xml.put(n, driver.dumpXml(n));
        }
        List<String> pidless = new CopyOnWriteArrayList<>();
        Stress.Result result = Stress.run(100, 30, Duration.ofMinutes(2), r -> {
            String n = names.get(r.nextInt(names.size()));
            try {
                switch (r.nextInt(13)) {
                    case 0, 1 -> driver.start(n);
                    case 2 -> driver.destroy(n);
                    case 3 -> driver.shutdown(n);
                    case 4 -> driver.suspend(n);
                    case 5 -> driver.resume(n);
                    case 6 -> driver.reboot(n);
                    case 7 -> driver.setMemory(n, (32L + r.nextInt(32)) << 20);
                    case 8 -> driver.define(xml.get(n));
                    case 9 -> driver.undefine(n);
                    case 10 -> driver.sendConsole(n, "q");
                    case 11 -> f.host.aliveNamed(n).forEach(p -> p.kill(9));
                    default -> driver.create(xml.get(n));
                }
            } finally {
                DomainInfo now = driver.lookup(n).orElse(null);
                if (now != null && now.isActive() && now.pid() <= 0) {
                    pidless.add(n + " active without a pid: " + now);
                }
            }
        }, e -> EXPECTED.contains(e.code()) || e.code() == ErrorCode.OPERATION_FAILED
                && (e.getMessage().contains("aborted by destroy")
                        || e.getMessage().contains("ended before its socket answered"))); // killed mid-start (op 11)
        System.out.println("contention outcomes: " + result.outcomes());
        assertEquals(List.of(), result.unexpected());
        assertEquals(List.of(), pidless);
        assertEquals(List.of(), f.host.violations, "never two lkvm for one domain");
        // quiescence: every domain's truth matches the host's
        Fixture.await("quiet", () -> driver.list().stream().allMatch(i -> {
            List<FakeHost.Proc> live = f.host.aliveNamed(i.name());
            return i.isActive() ? live.size() == 1 && live.get(0).pid() == i.pid() : live.isEmpty();
        }));
        assertTrue(f.host.alive().stream().allMatch(p -> driver.lookup(p.name).map(DomainInfo::isActive).orElse(false)),
                "every live lkvm belongs to an active domain");
        // an on_crash restart may still be on its way: destroy until nothing runs
        Fixture.await("all gone", () -> {
            Fixture.destroyActive(driver, e -> true); // ended meanwhile, or a transient one gone
            return f.host.alive().isEmpty();
        });
        try {
            Fixture.await("no leftovers", () -> {
                try {
                    return f.leftovers().isEmpty();
                } catch (java.io.IOException e) {
                    return false;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError("leftovers: " + f.leftovers() + "; domains: " + driver.list(), e);
        }
        try (var l = Files.list(f.settings.statusDir())) {
            assertEquals(List.of(), l.filter(p -> p.toString().endsWith(".status")).toList());
        }
    }
}
