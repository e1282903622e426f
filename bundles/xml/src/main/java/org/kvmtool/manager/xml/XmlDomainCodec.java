package org.kvmtool.manager.xml;

import jakarta.xml.bind.JAXBContext;
import jakarta.xml.bind.JAXBException;
import jakarta.xml.bind.Marshaller;
import jakarta.xml.bind.Unmarshaller;
import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainXmlCodec;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

import java.io.StringWriter;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.namespace.QName;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;

/**
 * libvirt domain XML <-> {@link DomainDefinition}, in three steps that the golden tests also run one by
 * one: {@link #read} (hardened StAX -> JAXB -> model, XML_ERROR / CONFIG_UNSUPPORTED with element path
 * and line:column), {@link #validate} (rules on the model), and {@link #format} (model -> JAXB ->
 * canonical XML).
 *
 * <p>How JAXB and StAX share the work: JAXB binds the document to {@link DomainXml} and writes it back,
 * so the schema lives in one place (the binding) for both directions. JAXB alone would be too lenient
 * for a strict codec: it ignores unknown attributes, silently keeps the last of two {@code <name>}s,
 * drops stray text, and its errors carry no element path. So it reads from a {@link GuardedReader} (the
 * hardening, paths and positions), an event handler turns its "unexpected element" into an error, a
 * listener records where each bound object started, and after binding the codec refuses unknown
 * attributes ({@code @XmlAnyAttribute}), duplicated elements (bound objects JAXB created but then
 * overwrote) and text where none belongs.
 */
// immediate: a delayed component is disposed with its last user, so an update of the driver would rebuild it
// (and a console service would drop every console's ring and reopen its pty); infrastructure outlives the driver
@Component(service = DomainXmlCodec.class, immediate = true)
public final class XmlDomainCodec implements DomainXmlCodec {
    /** Documents larger than this (in UTF-8) are refused before parsing. */
    public static final int MAX_BYTES = 1024 * 1024;

    private static final Pattern INDEXED = Pattern.compile("(.*)\\[(\\d+)\\]");

    private static final String INDENT_PROPERTY = "org.glassfish.jaxb.indentString";

    private final JAXBContext context;
    private final Supplier<UUID> uuids;

    /** A definition read from XML, before {@link #validate}: the model and where each part came from. */
    public record Parsed(DomainDefinition definition, SourceMap sources) {
    }

    @Activate
    public XmlDomainCodec() {
        this(UUID::randomUUID);
    }

    /** @param uuids the source of uuids for definitions that have none (tests make it deterministic) */
    public XmlDomainCodec(Supplier<UUID> uuids) {
        this.uuids = uuids;
        // In OSGi, jakarta.xml.bind looks the RI up through the context class loader: make it this bundle's.
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(XmlDomainCodec.class.getClassLoader());
        try {
            this.context = JAXBContext.newInstance(DomainXml.Domain.class);
        } catch (JAXBException e) {
            throw new KvmtoolException(ErrorCode.INTERNAL_ERROR, "cannot set up the domain XML binding: " + e, e);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    @Override
    public DomainDefinition parse(String xml) {
        return validate(read(xml));
    }

    /** Parse phase: well-formed, safe, known and supported; the model is not validated yet. */
    public Parsed read(String xml) {
        if (xml == null) {
            throw Problems.document("no XML", "the domain definition is empty");
        }
        checkSize(xml);
        GuardedReader reader = GuardedReader.over(xml);
        Positions positions = new Positions();
        DomainXml.Domain bound;
        try {
            Unmarshaller u = context.createUnmarshaller();
            u.setEventHandler(event -> {
                Pos at = reader.current();
                reader.fail(reader.getEventType() == XMLStreamConstants.START_ELEMENT
                        ? Problems.xml("unknown element", at, "not part of the domain XML kvmtool-manager understands")
                        : Problems.xml("invalid XML", at, Problems.oneLine(String.valueOf(event.getMessage()))));
                return false;
            });
            u.setListener(new Unmarshaller.Listener() {
                @Override
                public void beforeUnmarshal(Object target, Object parent) {
                    positions.record(target, reader.current());
                }

                @Override
                public void afterUnmarshal(Object target, Object parent) {
                    if (reader.currentHadText() && !(target instanceof DomainXml.ValueNode)) {
                        throw reader.fail(Problems.xml("unexpected text", reader.current(), "this element holds no text"));
                    }
                }
            });
            bound = u.unmarshal(reader, DomainXml.Domain.class).getValue();
            while (reader.hasNext()) {
                reader.next(); // the rest must be well-formed too (comments only)
            }
        } catch (JAXBException | XMLStreamException | RuntimeException e) {
            KvmtoolException kept = reader.error();
            if (kept != null) {
                throw new KvmtoolException(kept.code(), kept.getMessage(), e);
            }
            throw new KvmtoolException(ErrorCode.XML_ERROR, "malformed XML at " + reader.current().describe() + ": "
                    + GuardedReader.parserMessage(e), e);
        }
        refuseDuplicates(bound, positions);
        ReadContext cx = new ReadContext(positions);
        DomainDefinition definition = new DomainReader(cx, uuids).read(bound);
        // After the reader: an unsupported type='block' is a better message than its source's unknown dev='...'.
        refuseUnknownAttributes(positions);
        return new Parsed(definition, cx.map);
    }

    /** Validate phase. */
    public DomainDefinition validate(Parsed parsed) {
        return DomainValidator.validate(parsed.definition(), parsed.sources());
    }

    @Override
    public String format(DomainDefinition definition) {
        DomainValidator.validate(definition, SourceMap.NONE);
        try {
            Marshaller m = context.createMarshaller();
            m.setProperty(Marshaller.JAXB_FORMATTED_OUTPUT, true);
            m.setProperty(Marshaller.JAXB_FRAGMENT, true); // no <?xml ...?> line, as virsh dumpxml
            m.setProperty(Marshaller.JAXB_ENCODING, "UTF-8");
            m.setProperty(INDENT_PROPERTY, "  "); // libvirt's indentation (the RI's own property; jaxb-osgi is the same RI)
            StringWriter out = new StringWriter();
            m.marshal(DomainWriter.write(definition), out);
            return out.toString().strip() + "\n";
        } catch (JAXBException e) {
            throw new KvmtoolException(ErrorCode.INTERNAL_ERROR, "cannot write domain XML: " + e, e);
        }
    }

    private static void checkSize(String xml) {
        if (xml.length() > MAX_BYTES) {
            throw tooLarge(xml.length() + " characters");
        }
        long bytes = 0;
        for (int i = 0; i < xml.length(); i++) {
            char c = xml.charAt(i);
            bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
        }
        if (bytes > MAX_BYTES) {
            throw tooLarge(bytes + " bytes");
        }
    }

    private static KvmtoolException tooLarge(String size) {
        return Problems.document("document too large", "the definition has " + size + ", at most " + MAX_BYTES + " bytes are accepted");
    }

    /**
     * A bound element that is no longer in the tree was overwritten by a second one of the same name,
     * where the schema allows one: reported at that second one.
     */
    private static void refuseDuplicates(DomainXml.Domain root, Positions positions) {
        Set<Object> reachable = Collections.newSetFromMap(new IdentityHashMap<>());
        collect(root, reachable);
        List<Object> order = positions.inOrder();
        for (int i = 0; i < order.size(); i++) {
            if (!reachable.contains(order.get(i))) {
                throw Problems.xml("duplicate element", nextOccurrence(order, i, positions), "this element may appear only once here");
            }
        }
    }

    /** An attribute JAXB did not bind (it is in {@code @XmlAnyAttribute}) is unknown: the first in document order. */
    private static void refuseUnknownAttributes(Positions positions) {
        for (Object node : positions.inOrder()) {
            Map<QName, String> other = ((DomainXml.Node) node).other;
            if (other != null && !other.isEmpty()) {
                Pos at = positions.of(node);
                Map.Entry<QName, String> first = other.entrySet().iterator().next();
                QName q = first.getKey();
                String name = q.getPrefix().isEmpty() ? q.getLocalPart() : q.getPrefix() + ":" + q.getLocalPart();
                throw Problems.xml("unknown attribute", new Pos(at.path() + "/@" + name + "='" + Problems.printable(first.getValue()) + "'",
                        at.line(), at.column()), "not part of the domain XML kvmtool-manager understands");
            }
        }
    }

    /** The element that overwrote the one at {@code i}: same path, next index. */
    private static Pos nextOccurrence(List<Object> order, int i, Positions positions) {
        String path = positions.of(order.get(i)).path();
        Matcher m = INDEXED.matcher(path);
        String base = m.matches() ? m.group(1) : path;
        int n = m.matches() ? Integer.parseInt(m.group(2)) : 1;
        String next = base + "[" + (n + 1) + "]";
        for (int j = i + 1; j < order.size(); j++) {
            Pos p = positions.of(order.get(j));
            if (p.path().equals(next)) {
                return p;
            }
        }
        return positions.of(order.get(i));
    }

    private static void collect(Object node, Set<Object> into) {
        if (!(node instanceof DomainXml.Node) || !into.add(node)) {
            return;
        }
        for (Class<?> c = node.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                Object value;
                try {
                    value = f.get(node);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
                if (value instanceof List<?> list) {
                    list.forEach(v -> collect(v, into));
                } else {
                    collect(value, into);
                }
            }
        }
    }
}
