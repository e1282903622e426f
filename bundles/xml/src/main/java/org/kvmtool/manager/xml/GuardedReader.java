package org.kvmtool.manager.xml;

import org.kvmtool.manager.api.KvmtoolException;

import java.io.StringReader;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.stream.Location;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import javax.xml.stream.util.StreamReaderDelegate;

/**
 * The hardened StAX reader JAXB reads from. The JDK's own StAX parser is used (never whichever
 * implementation happens to be visible in the framework), with DTDs, external entities and entity
 * replacement off; on top of that this delegate refuses, as XML_ERROR, any DOCTYPE, any entity
 * reference, any namespaced element (XInclude included) and nesting deeper than {@link #MAX_DEPTH}, and
 * refuses, as CONFIG_UNSUPPORTED, libvirt elements and attributes kvmtool cannot honour
 * ({@link Unsupported}). It also keeps the element path and the start position of every open element,
 * which JAXB does not give, so that every error can name both.
 *
 * <p>The first error is kept in {@link #error()}: JAXB wraps whatever this reader throws, and the codec
 * reports the kept error rather than JAXB's wording.
 */
final class GuardedReader extends StreamReaderDelegate {
    static final int MAX_DEPTH = 32;
    static final String XINCLUDE_NS = "http://www.w3.org/2001/XInclude";

    private final Deque<Frame> open = new ArrayDeque<>();
    private boolean popPending;
    private int previousEvent = START_DOCUMENT;
    private KvmtoolException error;

    private static final class Frame {
        final Pos pos;
        final String plainPath;
        final Map<String, Integer> children = new HashMap<>();
        boolean text;

        Frame(Pos pos, String plainPath) {
            this.pos = pos;
            this.plainPath = plainPath;
        }
    }

    private GuardedReader(XMLStreamReader reader) {
        super(reader);
    }

    static GuardedReader over(String xml) {
        try {
            return new GuardedReader(factory().createXMLStreamReader(new StringReader(xml)));
        } catch (XMLStreamException e) {
            // The JDK parser reads the XML declaration eagerly: a broken one fails here, at the start.
            Location at = e.getLocation();
            Pos where = at == null ? Pos.of("/") : new Pos("/", at.getLineNumber(), at.getColumnNumber());
            throw Problems.xml("malformed XML", where, parserMessage(e));
        }
    }

    private static XMLInputFactory factory() {
        XMLInputFactory f = XMLInputFactory.newDefaultFactory();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        f.setProperty(XMLInputFactory.IS_REPLACING_ENTITY_REFERENCES, false);
        f.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
        f.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        // Belt and braces: should anything still try to resolve an entity, it gets nothing.
        f.setXMLResolver((publicId, systemId, base, ns) -> {
            throw new XMLStreamException("external entities are not allowed: " + systemId);
        });
        return f;
    }

    /** The first error seen, or null. */
    KvmtoolException error() {
        return error;
    }

    /** Where the reader is: the innermost open element (the one just started or just ended). */
    Pos current() {
        Frame f = open.peek();
        return f == null ? Pos.of("/") : f.pos;
    }

    /** Whether the current element held non-blank text of its own. */
    boolean currentHadText() {
        Frame f = open.peek();
        return f != null && f.text;
    }

    /** Records {@code e} as the error (unless one is already kept) and returns it to throw. */
    KvmtoolException fail(KvmtoolException e) {
        if (error == null) {
            error = e;
        }
        return error;
    }

    private XMLStreamException stop(KvmtoolException e) {
        fail(e);
        return new XMLStreamException(error.getMessage());
    }

    @Override
    public int next() throws XMLStreamException {
        if (error != null) {
            throw new XMLStreamException(error.getMessage());
        }
        if (popPending) {
            open.pop();
            popPending = false;
        }
        Location before = getParent().getLocation();
        int event;
        try {
            event = super.next();
        } catch (XMLStreamException e) {
            throw stop(malformed(e));
        }
        switch (event) {
            case DTD -> throw stop(Problems.xml("forbidden XML", at(before),
                    "a DOCTYPE (DTD) is not allowed in a domain definition"));
            case ENTITY_REFERENCE -> throw stop(Problems.xml("forbidden XML", at(before),
                    "entity reference &" + getLocalName() + "; is not allowed (only &lt; &gt; &amp; &apos; &quot; and character references)"));
            case START_ELEMENT -> enter(before);
            case END_ELEMENT -> popPending = true;
            case CHARACTERS, CDATA, SPACE -> {
                if (!open.isEmpty() && !isWhiteSpace()) {
                    open.peek().text = true;
                }
            }
            default -> {
                // comments and processing instructions carry nothing: JAXB skips them
            }
        }
        previousEvent = event;
        return event;
    }

    @Override
    public int nextTag() throws XMLStreamException {
        int e = next();
        while ((e == CHARACTERS || e == CDATA || e == SPACE) && isWhiteSpace()
                || e == COMMENT || e == PROCESSING_INSTRUCTION) {
            e = next();
        }
        if (e != START_ELEMENT && e != END_ELEMENT) {
            throw stop(Problems.xml("unexpected text", current(), "an element was expected"));
        }
        return e;
    }

    @Override
    public String getElementText() throws XMLStreamException {
        StringBuilder b = new StringBuilder();
        for (int e = next(); e != END_ELEMENT; e = next()) {
            if (e == START_ELEMENT) {
                throw stop(Problems.xml("unknown element", current(), "text was expected here"));
            }
            if (e == CHARACTERS || e == CDATA || e == SPACE) {
                b.append(getText());
            }
        }
        return b.toString();
    }

    private void enter(Location before) throws XMLStreamException {
        Frame parent = open.peek();
        String ns = getNamespaceURI();
        String name = getLocalName();
        String prefix = getPrefix();
        String shown = prefix == null || prefix.isEmpty() ? name : prefix + ":" + name;
        int index = parent == null ? 1 : parent.children.merge(shown, 1, Integer::sum);
        String parentPath = parent == null ? "" : parent.pos.path();
        String parentPlain = parent == null ? "" : parent.plainPath;
        boolean showIndex = index > 1 || Paths.repeatable(parentPlain, shown);
        // After a text event the JDK scanner has already consumed the '<' of this tag.
        int column = Math.max(1, before.getColumnNumber() - (isText(previousEvent) ? 1 : 0));
        Pos pos = new Pos(parentPath + "/" + shown + (showIndex ? "[" + index + "]" : ""), before.getLineNumber(), column);
        Frame frame = new Frame(pos, parentPlain + "/" + shown);
        open.push(frame);

        if (open.size() > MAX_DEPTH) {
            throw stop(Problems.xml("forbidden XML", pos, "elements nest deeper than " + MAX_DEPTH + " levels"));
        }
        if (ns != null && !ns.isEmpty()) {
            if (XINCLUDE_NS.equals(ns)) {
                throw stop(Problems.xml("forbidden XML", pos, "XInclude is not allowed in a domain definition"));
            }
            throw stop(Problems.xml("unknown element", pos, "namespace '" + Problems.printable(ns) + "' is not part of kvmtool's domain XML"));
        }
        if (parent == null && !"domain".equals(name)) {
            throw stop(Problems.xml("unknown element", pos, "the root element of a domain definition is <domain>"));
        }
        String why = Unsupported.element(frame.plainPath);
        if (why != null) {
            throw stop(Problems.unsupported(pos, why));
        }
        for (int i = 0; i < getAttributeCount(); i++) {
            String attr = getAttributeLocalName(i);
            String attrNs = getAttributeNamespace(i);
            if ((attrNs == null || attrNs.isEmpty())) {
                String whyAttr = Unsupported.attribute(frame.plainPath, attr);
                if (whyAttr != null) {
                    throw stop(Problems.unsupportedValue(pos.attribute(attr), getAttributeValue(i), whyAttr));
                }
            }
        }
    }

    /** The current element's path at an event's own position. */
    private Pos at(Location location) {
        return new Pos(current().path(), location.getLineNumber(), location.getColumnNumber());
    }

    private static boolean isText(int event) {
        return event == CHARACTERS || event == SPACE || event == CDATA;
    }

    private KvmtoolException malformed(XMLStreamException e) {
        Location at = e.getLocation();
        Pos where = current();
        if (at != null && at.getLineNumber() > 0) {
            where = new Pos(where.path(), at.getLineNumber(), at.getColumnNumber());
        }
        return Problems.xml("malformed XML", where, parserMessage(e));
    }

    /** The JDK's message without its "ParseError at [row,col]" preamble, on one line. */
    static String parserMessage(Exception e) {
        String message = String.valueOf(e.getMessage());
        int m = message.indexOf("Message: ");
        if (m >= 0) {
            message = message.substring(m + "Message: ".length());
        }
        return Problems.oneLine(message);
    }
}
