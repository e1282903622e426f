package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainEvent;
import org.kvmtool.manager.api.LifecycleEvent;
import org.kvmtool.manager.core.fakes.FakeCodec;

/** Every definition change is written before it is applied: a failed write leaves memory and disk as they were. */
class DefinitionKeeperTest {
    @TempDir
    Path tmp;
    private final FakeCodec codec = new FakeCodec();
    private final List<DomainEvent> events = new CopyOnWriteArrayList<>();
    private boolean full;

    private final DomainRegistry registry = new DomainRegistry();
    private DefinitionKeeper keeper;
    private final DomainDefinition def = codec.parse(FakeCodec.xml("vm"));

    @BeforeEach
    void makeTheKeeper() {
        keeper = keeper();
    }

    private DefinitionKeeper keeper() {
        AtomicFile files = new AtomicFile(p -> full ? StoresTest.ENOSPC.openForWrite(p) : AtomicFile.REAL.openForWrite(p));
        DefinitionStore store = new DefinitionStore(tmp.resolve("etc"), tmp.resolve("etc/autostart"), files);
        EventDispatcher dispatcher = new EventDispatcher(null, Clock.systemUTC());
        dispatcher.addListener(events::add);
        StateKeeper state = new StateKeeper(new StatusStore(tmp.resolve("run"), files), dispatcher);
        return new DefinitionKeeper(store, codec, registry, state, Clock.systemUTC());
    }

    @Test
    void aChangeThatCannotBeWrittenChangesNothing() throws Exception {
        DomainObject d = keeper.addPersistent(def, codec.format(def));
        Path file = tmp.resolve("etc/vm.xml");
        String before = Files.readString(file);

        full = true;
        assertThrows(FileWriteException.class, () -> keeper.changePersistent(d, x -> x.withCurrentMemory(32L << 20)));
        assertEquals(def, d.persistentDefinition(), "memory unchanged");
        assertEquals(before, Files.readString(file), "disk unchanged");
        DomainDefinition other = codec.parse(FakeCodec.xml("other"));
        assertThrows(FileWriteException.class, () -> keeper.addPersistent(other, codec.format(other)));
        assertTrue(registry.find("other").isEmpty(), "not registered without its file");

        full = false;
        keeper.changePersistent(d, x -> x.withCurrentMemory(32L << 20));
        assertEquals(32L << 20, d.persistentDefinition().currentMemoryBytes());
        assertEquals(32L << 20, codec.parse(Files.readString(file)).currentMemoryBytes());
    }

    @Test
    void autostartAndUndefineKeepFileLinkAndMemoryTogether() throws Exception {
        DomainObject d = keeper.addPersistent(def, codec.format(def));
        keeper.setAutostart(d, true);
        assertTrue(d.autostart());
        assertTrue(Files.isSymbolicLink(tmp.resolve("etc/autostart/vm.xml")));
        keeper.remove(d);
        assertFalse(d.autostart());
        assertNull(d.persistentDefinition());
        assertFalse(Files.exists(tmp.resolve("etc/vm.xml")));
        assertFalse(Files.exists(tmp.resolve("etc/autostart/vm.xml"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        Fixture.await("the events", () -> events.size() == 2);
        assertEquals(List.of(LifecycleEvent.DEFINED, LifecycleEvent.UNDEFINED), events.stream().map(DomainEvent::event).toList());
    }
}
