package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.core.fakes.FakeCgroups;
import org.kvmtool.manager.core.fakes.FakeCodec;
import org.kvmtool.manager.core.fakes.FakeHost;
import org.kvmtool.manager.core.fakes.FakeNetwork;

/** What activation removes, and above all what it leaves: anything a live run or a status file names. */
class LeftoverSweepTest {
    @TempDir
    Path tmp;

    private final DomainRegistry registry = new DomainRegistry();
    private final FakeCgroups cgroups = new FakeCgroups(new FakeHost());
    private final FakeNetwork network = new FakeNetwork();

    private LeftoverSweep sweep() {
        Fixture f = new Fixture(tmp);
        return new LeftoverSweep(cgroups, network, f.settings, registry);
    }

    private Path home(String id, String... sockets) throws Exception {
        Path h = Files.createDirectories(tmp.resolve("run/home").resolve(id).resolve(".lkvm"));
        for (String s : sockets) {
            Files.writeString(h.resolve(s + ".sock"), "");
        }
        return h.getParent();
    }

    /** A registered domain; with a run in HOME {@code homeId} unless null. */
    private DomainObject domain(String name, String homeId) {
        DomainObject d = new DomainObject(name, UUID.randomUUID(), Clock.systemUTC());
        if (homeId != null) {
            FakeCodec codec = new FakeCodec();
            var def = codec.parse(FakeCodec.xml(name));
            d.setRun(new DomainRun(1, def, codec.format(def), tmp.resolve("run/home").resolve(homeId).toString(), "s"));
        }
        registry.add(d);
        return d;
    }

    private List<String> homes() throws Exception {
        try (Stream<Path> s = Files.list(tmp.resolve("run/home"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void homesThatNoRunOwnsAndNoStatusFileNamesGo() throws Exception {
        domain("live", "1");
        home("1", "live");
        Path named = home("2", "gone");
        home("3", "cut");
        sweep().homesOfNoRun(Set.of(named.toString()));
        assertEquals(List.of("1", "2"), homes());
    }

    @Test
    void ghostHomesAreThoseWithTheDomainsSocketAndNoRun() throws Exception {
        domain("vm", "1");
        home("1", "vm");
        home("4", "vm");
        home("5", "other");
        sweep().ghostHomes("vm");
        assertEquals(List.of("1", "5"), homes());
        Path socket = home("6", "vm").resolve(".lkvm/vm.sock");
        sweep().ghostSocket("vm", socket);
        assertFalse(Files.exists(socket));
    }

    @Test
    void tapsGoWhenNoRunOwnsThemAndNoStatusFileNamesTheirRun() {
        domain("live", "1");
        String home = tmp.resolve("run/home") + "/";
        network.taps.putAll(java.util.Map.of("kvmtap1", home + "1", "kvmtap2", home + "2", "kvmtap3", home + "3",
                "kvmtap9", "/run/another-manager/home/3"));
        sweep().tapsOfNoRun(Set.of(home + "2"));
        assertEquals(Set.of("kvmtap1", "kvmtap2", "kvmtap9"), network.taps.keySet(), "a cut-short start's tap (3) goes");
    }

    @Test
    void onlyTheCgroupsOfDomainsWithoutARunGo() {
        domain("running", "1");
        domain("off", null);
        cgroups.create("machine", "running");
        cgroups.create("machine", "off");
        sweep().inactiveCgroups();
        assertEquals(Set.of("running"), cgroups.groups.keySet());
    }
}
