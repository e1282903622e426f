package org.kvmtool.manager.core.fakes;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import javax.xml.parsers.DocumentBuilderFactory;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDefinition.LifecycleAction;
import org.kvmtool.manager.api.DomainDefinition.NetInterface;
import org.kvmtool.manager.api.DomainDefinition.NetType;
import org.kvmtool.manager.api.DomainDefinition.Vsock;
import org.kvmtool.manager.api.DomainXmlCodec;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The subset of domain XML the driver tests need: name, uuid, memory, vcpu, kernel, actions, tunables, balloon,
 * interfaces (type, source bridge, target dev and managed, mac), vsock (cid auto and address), hugepages.
 */
public final class FakeCodec implements DomainXmlCodec {
    @Override
    public DomainDefinition parse(String xml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
            Element root = doc.getDocumentElement();
            String name = text(root, "name", null);
            if (name == null || !DomainDefinition.NAME_PATTERN.matcher(name).matches()) {
                throw new KvmtoolException(ErrorCode.XML_ERROR, "XML error: /domain/name '" + name + "' is not a valid name");
            }
            String uuid = text(root, "uuid", null);
            long max = Long.parseLong(text(root, "memory", "64")) << 20;
            long cur = Long.parseLong(text(root, "currentMemory", Long.toString(max >> 20))) << 20;
            String shares = text(root, "shares", null);
            String limit = text(root, "hard_limit", null);
            return new DomainDefinition(name, uuid == null ? UUID.randomUUID() : UUID.fromString(uuid), null, null, max, cur,
                    Integer.parseInt(text(root, "vcpu", "1")),
                    new DomainDefinition.OsSpec("x86_64", text(root, "kernel", "/boot/guest.bin"), null, null, List.of()),
                    text(root, "emulator", null),
                    action(text(root, "on_poweroff", "destroy")), action(text(root, "on_reboot", "restart")),
                    action(text(root, "on_crash", "destroy")),
                    shares == null ? null : Long.valueOf(shares), limit == null ? null : Long.parseLong(limit) << 10,
                    new DomainDefinition.Devices(List.of(), List.of(),
                            new DomainDefinition.Console(DomainDefinition.ConsoleType.SERIAL),
                            root.getElementsByTagName("memballoon").getLength() > 0, interfaces(root), false, vsock(root)),
                    root.getElementsByTagName("hugepages").getLength() > 0);
        } catch (KvmtoolException e) {
            throw e;
        } catch (Exception e) {
            throw new KvmtoolException(ErrorCode.XML_ERROR, "XML error: " + e.getMessage(), e);
        }
    }

    private static List<NetInterface> interfaces(Element root) {
        List<NetInterface> out = new ArrayList<>();
        NodeList l = root.getElementsByTagName("interface");
        for (int i = 0; i < l.getLength(); i++) {
            Element e = (Element) l.item(i);
            NetType type = NetType.valueOf(e.getAttribute("type").toUpperCase(Locale.ROOT));
            String bridge = attribute(e, "source", "bridge");
            String dev = attribute(e, "target", "dev");
            String managed = attribute(e, "target", "managed");
            out.add(new NetInterface(type, dev, attribute(e, "mac", "address"), bridge,
                    type != NetType.USER && !"no".equals(managed)));
        }
        return out;
    }

    private static Vsock vsock(Element root) {
        NodeList l = root.getElementsByTagName("vsock");
        if (l.getLength() == 0) {
            return null;
        }
        String address = attribute((Element) l.item(0), "cid", "address");
        String auto = attribute((Element) l.item(0), "cid", "auto");
        return new Vsock(address == null ? null : Long.valueOf(address), address == null || "yes".equals(auto));
    }

    private static String attribute(Element parent, String child, String attribute) {
        NodeList l = parent.getElementsByTagName(child);
        if (l.getLength() == 0 || !((Element) l.item(0)).hasAttribute(attribute)) {
            return null;
        }
        return ((Element) l.item(0)).getAttribute(attribute);
    }

    private static LifecycleAction action(String s) {
        return LifecycleAction.valueOf(s.toUpperCase(Locale.ROOT));
    }

    private static String text(Element root, String tag, String dflt) {
        NodeList l = root.getElementsByTagName(tag);
        return l.getLength() == 0 ? dflt : l.item(0).getTextContent().trim();
    }

    @Override
    public String format(DomainDefinition d) {
        StringBuilder b = new StringBuilder("<domain type='kvmtool'>\n");
        b.append("  <name>").append(d.name()).append("</name>\n");
        b.append("  <uuid>").append(d.uuid()).append("</uuid>\n");
        b.append("  <memory unit='MiB'>").append(d.maxMemoryBytes() >> 20).append("</memory>\n");
        b.append("  <currentMemory unit='MiB'>").append(d.currentMemoryBytes() >> 20).append("</currentMemory>\n");
        b.append("  <vcpu>").append(d.vcpus()).append("</vcpu>\n");
        b.append("  <os><type>hvm</type><kernel>").append(d.os().kernel()).append("</kernel></os>\n");
        b.append("  <on_poweroff>").append(d.onPoweroff().name().toLowerCase(Locale.ROOT)).append("</on_poweroff>\n");
        b.append("  <on_reboot>").append(d.onReboot().name().toLowerCase(Locale.ROOT)).append("</on_reboot>\n");
        b.append("  <on_crash>").append(d.onCrash().name().toLowerCase(Locale.ROOT)).append("</on_crash>\n");
        if (d.cpuShares() != null) {
            b.append("  <cputune><shares>").append(d.cpuShares()).append("</shares></cputune>\n");
        }
        if (d.memoryHardLimitBytes() != null) {
            b.append("  <memtune><hard_limit unit='KiB'>").append(d.memoryHardLimitBytes() >> 10).append("</hard_limit></memtune>\n");
        }
        b.append("  <devices>");
        if (d.emulator() != null) {
            b.append("<emulator>").append(d.emulator()).append("</emulator>");
        }
        if (d.devices().balloon()) {
            b.append("<memballoon model='virtio'/>");
        }
        for (NetInterface n : d.devices().interfaces()) {
            b.append("<interface type='").append(n.type().name().toLowerCase(Locale.ROOT)).append("'>");
            if (n.bridge() != null) {
                b.append("<source bridge='").append(n.bridge()).append("'/>");
            }
            if (n.mac() != null) {
                b.append("<mac address='").append(n.mac()).append("'/>");
            }
            if (n.hasTap()) {
                b.append("<target").append(n.tapDevice() == null ? "" : " dev='" + n.tapDevice() + "'")
                        .append(" managed='").append(n.managed() ? "yes" : "no").append("'/>");
            }
            b.append("</interface>");
        }
        Vsock v = d.devices().vsock();
        if (v != null) {
            b.append("<vsock model='virtio'><cid auto='").append(v.auto() ? "yes" : "no").append("'")
                    .append(v.cid() == null ? "" : " address='" + v.cid() + "'").append("/></vsock>");
        }
        b.append("</devices>\n");
        if (d.hugepages()) {
            b.append("  <memoryBacking><hugepages/></memoryBacking>\n");
        }
        return b.append("</domain>\n").toString();
    }

    /** A domain XML for tests. */
    public static String xml(String name, String... extra) {
        return "<domain type='kvmtool'><name>" + name + "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                + "<os><type>hvm</type><kernel>/boot/guest.bin</kernel></os>" + String.join("", extra)
                + "<devices><memballoon model='virtio'/></devices></domain>";
    }
}
