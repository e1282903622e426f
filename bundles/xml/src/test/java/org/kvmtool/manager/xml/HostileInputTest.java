package org.kvmtool.manager.xml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

import java.io.FileOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import javax.xml.stream.XMLStreamConstants;

/**
 * Hostile documents: each is refused with its code, and none makes the parser read a file or open a
 * socket. "No file read" is proven with a FIFO: opening one for reading blocks until a writer comes,
 * so a parser that tried would hang, and the parse runs under a preemptive timeout. "No socket" is
 * proven with a loopback listener that must see no connection.
 */
class HostileInputTest {
    private static final String MARKER = "SECRET-" + UUID.randomUUID();
    private static final XmlDomainCodec CODEC = new XmlDomainCodec();
    private static ServerSocket listener;

    @TempDir
    static Path dir;

    @BeforeAll
    static void listen() throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    @AfterAll
    static void close() throws IOException {
        listener.close();
    }

    static String domain(String inner) {
        return "<domain type='kvmtool'>\n  <name>" + inner + "</name>\n  <memory unit='MiB'>64</memory>\n"
                + "  <os><kernel>/boot/bzImage</kernel></os>\n</domain>\n";
    }

    private static KvmtoolException refused(String xml, ErrorCode code) {
        KvmtoolException e = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(KvmtoolException.class, () -> CODEC.parse(xml)));
        assertEquals(code, e.code(), e.getMessage());
        assertFalse(e.getMessage().contains(MARKER), "the secret leaked into the message: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one-line message: " + e.getMessage());
        return e;
    }

    private static String url() {
        return "http://127.0.0.1:" + listener.getLocalPort() + "/x";
    }

    /** Nobody connected to the loopback listener during the test. */
    private static void assertNoConnection() throws IOException {
        listener.setSoTimeout(300);
        try (Socket s = listener.accept()) {
            throw new AssertionError("the parser opened a connection to " + url() + " from " + s.getRemoteSocketAddress());
        } catch (SocketTimeoutException expected) {
            // nothing came
        }
    }

    private static Path secretFile() throws IOException {
        Path f = dir.resolve("secret.txt");
        Files.writeString(f, MARKER);
        return f;
    }

    /** A FIFO that nobody writes: whoever opens it for reading blocks. Null when mkfifo is not there. */
    private static Path fifo() throws Exception {
        Path f = dir.resolve("fifo-" + UUID.randomUUID());
        try {
            Process p = new ProcessBuilder("mkfifo", f.toString()).redirectErrorStream(true).start();
            return p.waitFor() == 0 ? f : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Releases a reader that may be blocked on the FIFO (so no thread is left hanging). */
    private static void release(Path fifo) {
        Thread t = new Thread(() -> {
            try (FileOutputStream out = new FileOutputStream(fifo.toFile())) {
                out.write('x');
            } catch (IOException ignored) {
                // nobody was reading: fine
            }
        });
        t.setDaemon(true);
        t.start();
    }

    @Test
    void billionLaughsIsRefusedAtTheDoctype() {
        StringBuilder dtd = new StringBuilder("<!DOCTYPE domain [\n <!ENTITY lol \"lol\">\n");
        dtd.append(" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
        for (int i = 2; i <= 9; i++) {
            dtd.append(" <!ENTITY lol").append(i).append(" \"");
            for (int j = 0; j < 10; j++) {
                dtd.append("&lol").append(i - 1).append(';');
            }
            dtd.append("\">\n");
        }
        dtd.append("]>\n");
        KvmtoolException e = refused(dtd + domain("&lol9;"), ErrorCode.XML_ERROR);
        assertTrue(e.getMessage().contains("DOCTYPE"), e.getMessage());
        assertTrue(e.getMessage().contains("(line 1:1)"), e.getMessage());
    }

    @Test
    void externalEntityToALocalFileIsNeitherReadNorOpened() throws Exception {
        Path secret = secretFile();
        refused("<!DOCTYPE domain [<!ENTITY xxe SYSTEM \"" + secret.toUri() + "\">]>\n" + domain("&xxe;"), ErrorCode.XML_ERROR);
        Path fifo = fifo();
        assumeTrue(fifo != null, "mkfifo is not available: the open() itself cannot be observed");
        try {
            KvmtoolException e = refused("<!DOCTYPE domain [<!ENTITY xxe SYSTEM \"" + fifo.toUri() + "\">]>\n" + domain("&xxe;"), ErrorCode.XML_ERROR);
            assertTrue(e.getMessage().contains("DOCTYPE"), e.getMessage());
            // The same through an external DTD subset and a parameter entity.
            refused("<!DOCTYPE domain SYSTEM \"" + fifo.toUri() + "\">\n" + domain("x"), ErrorCode.XML_ERROR);
            refused("<!DOCTYPE domain [<!ENTITY % p SYSTEM \"" + fifo.toUri() + "\"> %p;]>\n" + domain("x"), ErrorCode.XML_ERROR);
        } finally {
            release(fifo);
        }
    }

    @Test
    void externalEntityToAUrlOpensNoSocket() throws Exception {
        refused("<!DOCTYPE domain [<!ENTITY xxe SYSTEM \"" + url() + "\">]>\n" + domain("&xxe;"), ErrorCode.XML_ERROR);
        refused("<!DOCTYPE domain SYSTEM \"" + url() + "\">\n" + domain("x"), ErrorCode.XML_ERROR);
        refused("<!DOCTYPE domain PUBLIC \"-//x//y\" \"" + url() + "\">\n" + domain("x"), ErrorCode.XML_ERROR);
        refused("<!DOCTYPE domain [<!ENTITY % p SYSTEM \"" + url() + "\"> %p;]>\n" + domain("x"), ErrorCode.XML_ERROR);
        assertNoConnection();
    }

    @Test
    void aPlainDoctypeIsRefused() {
        KvmtoolException e = refused("<!DOCTYPE domain>\n" + domain("x"), ErrorCode.XML_ERROR);
        assertEquals("forbidden XML at / (line 1:1): a DOCTYPE (DTD) is not allowed in a domain definition", e.getMessage());
    }

    @Test
    void anUndeclaredEntityIsRefused() {
        KvmtoolException e = refused(domain("&ent;"), ErrorCode.XML_ERROR);
        assertTrue(e.getMessage().startsWith("forbidden XML at /domain/name (line 2:9): entity reference &ent;"), e.getMessage());
    }

    @Test
    void xincludeIsRefusedAndReadsNothing() throws Exception {
        Path secret = secretFile();
        String inc = "<domain type='kvmtool' xmlns:xi='http://www.w3.org/2001/XInclude'>\n  <name>x</name>\n"
                + "  <description><xi:include href='%s' parse='text'/></description>\n"
                + "  <memory unit='MiB'>64</memory>\n  <os><kernel>/boot/bzImage</kernel></os>\n</domain>\n";
        KvmtoolException e = refused(String.format(inc, secret.toUri()), ErrorCode.XML_ERROR);
        assertEquals("forbidden XML at /domain/description/xi:include (line 3:16): XInclude is not allowed in a domain definition", e.getMessage());
        refused(String.format(inc, url()), ErrorCode.XML_ERROR);
        assertNoConnection();
        Path fifo = fifo();
        assumeTrue(fifo != null, "mkfifo is not available");
        try {
            refused(String.format(inc, fifo.toUri()), ErrorCode.XML_ERROR);
        } finally {
            release(fifo);
        }
    }

    @Test
    void aTenMebibyteDocumentIsRefusedBeforeParsing() {
        String big = domain("x").replace("</domain>", "<description>" + "x".repeat(10 * 1024 * 1024) + "</description></domain>");
        KvmtoolException e = refused(big, ErrorCode.XML_ERROR);
        assertTrue(e.getMessage().startsWith("document too large: "), e.getMessage());
        // The limit counts UTF-8 bytes: 600 Ki two-byte characters are under 1 Mi characters but over 1 MiB.
        String wide = domain("x").replace("</domain>", "<description>" + "\u00e9".repeat(600 * 1024) + "</description></domain>");
        assertTrue(wide.length() < XmlDomainCodec.MAX_BYTES);
        assertTrue(refused(wide, ErrorCode.XML_ERROR).getMessage().startsWith("document too large: "));
        // And just under the limit, a document parses.
        String fits = domain("x").replace("</domain>", "<description>" + "x".repeat(XmlDomainCodec.MAX_BYTES - 400) + "</description></domain>");
        assertEquals(XmlDomainCodec.MAX_BYTES - 400, CODEC.parse(fits).description().length());
    }

    @Test
    void deepNestingIsRefused() throws Exception {
        String deep = "<domain type='kvmtool'><devices>" + "<a>".repeat(100_000) + "</a>".repeat(100_000) + "</devices></domain>";
        refused(deep, ErrorCode.XML_ERROR);
        // The guard's own depth limit (through the codec an unknown element is met first).
        GuardedReader r = GuardedReader.over(deep);
        KvmtoolException e = assertThrows(KvmtoolException.class, () -> {
            try {
                while (r.hasNext()) {
                    r.next();
                }
            } catch (javax.xml.stream.XMLStreamException x) {
                throw r.error();
            }
        });
        assertEquals(ErrorCode.XML_ERROR, e.code());
        assertTrue(e.getMessage().contains("elements nest deeper than 32 levels"), e.getMessage());
        assertTrue(e.getMessage().contains("/domain/devices/a[1]/a/a/a"), e.getMessage());
    }

    @Test
    void thirtyTwoLevelsAreWithinTheGuardsLimit() throws Exception {
        String ok = "<domain>" + "<a>".repeat(31) + "</a>".repeat(31) + "</domain>";
        GuardedReader r = GuardedReader.over(ok);
        int starts = 0;
        while (r.hasNext()) {
            if (r.next() == XMLStreamConstants.START_ELEMENT) {
                starts++;
            }
        }
        assertEquals(32, starts);
    }

    @Test
    void namesThatCouldEscapeADirectoryOrBreakAnArgumentAreRefused() {
        for (String name : new String[] {"a/b", "../etc", "..", ".hidden", "my guest", " lead", "a".repeat(65), "", "tab\there", "semi;colon"}) {
            KvmtoolException e = refused(domain(name.replace("\t", "&#9;")), ErrorCode.XML_ERROR);
            assertTrue(e.getMessage().startsWith("invalid value at /domain/name='"), e.getMessage());
        }
        assertEquals("a".repeat(64), CODEC.parse(domain("a".repeat(64))).name());
    }

    @Test
    void aNulInANameIsRefusedAsMalformed() {
        KvmtoolException raw = refused(domain("a\u0000b"), ErrorCode.XML_ERROR);
        assertTrue(raw.getMessage().startsWith("malformed XML at /domain/name"), raw.getMessage());
        KvmtoolException ref = refused(domain("a&#0;b"), ErrorCode.XML_ERROR);
        assertTrue(ref.getMessage().startsWith("malformed XML at /domain/name"), ref.getMessage());
    }

    @Test
    void otherRootsAndNamespacesAreRefused() {
        refused("<x:domain xmlns:x='urn:x' type='kvmtool'/>", ErrorCode.XML_ERROR);
        refused("<domain xmlns='urn:evil' type='kvmtool'/>", ErrorCode.XML_ERROR);
        refused("", ErrorCode.XML_ERROR);
        refused("not xml at all", ErrorCode.XML_ERROR);
        refused(domain("x") + "<domain/>", ErrorCode.XML_ERROR);
    }
}
