package org.kvmtool.manager.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.kvmtool.manager.api.DomainInfo;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.testing.FakeDomainDriver;

/** Calls decoded and answered without a socket: what reaches the session and the driver. */
class DispatcherTest {
    private final FakeDomainDriver driver = new FakeDomainDriver();
    private final Dispatcher dispatcher = new Dispatcher(driver, () -> "host");
    private final List<String> consoles = new ArrayList<>();
    private final Session session = new Session() {
        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void opened(boolean readOnly) {
        }

        @Override
        public boolean isReadOnly() {
            return false;
        }

        @Override
        public int registerLifecycle(DomainInfo domain, boolean legacy) {
            return 0;
        }

        @Override
        public void deregister(int callbackId) {
        }

        @Override
        public void deregisterLegacy() {
        }

        @Override
        public void openConsole(Packet call, String domain, boolean force) {
            consoles.add(domain);
        }
    };

    private Packet openConsole(String name) {
        DomainInfo d = driver.lookup(name).orElseThrow();
        ByteBuffer uuid = ByteBuffer.allocate(16);
        uuid.putLong(d.uuid().getMostSignificantBits()).putLong(d.uuid().getLeastSignificantBits());
        byte[] body = new XdrOut().writeString(name).writeFixedOpaque(uuid.array()).writeInt(d.id())
                .writeOptionalString(null).writeInt(0).toByteArray();
        return new Packet(Packet.REMOTE_PROGRAM, Packet.VERSION, Proc.DOMAIN_OPEN_CONSOLE, Packet.CALL, 7, Packet.OK, body);
    }

    @Test
    void aConsoleOfADomainThatMayNotHaveOneIsRefusedBeforeAnyStream() {
        driver.define("<domain type='kvmtool'><name>off</name></domain>");
        RpcException e = assertThrows(RpcException.class, () -> dispatcher.call(session, openConsole("off")));
        assertEquals(ErrorCode.OPERATION_INVALID.libvirtCode(), e.code);
        assertEquals("domain is not running", e.getMessage());
        assertEquals(List.of(), consoles, "no stream was set up");

        driver.start("off");
        dispatcher.call(session, openConsole("off"));
        assertEquals(List.of("off"), consoles);
    }
}
