package org.kvmtool.manager.core.fakes;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import javax.xml.parsers.DocumentBuilderFactory;

import org.kvmtool.manager.api.DomainDefinition;
import org.kvmtool.manager.api.DomainDefinition.LifecycleAction;
import org.kvmtool.manager.api.DomainXmlCodec;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The subset of domain XML the driver tests need: name, uuid, memory, vcpu, kernel, actions, tunables, balloon. */
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
                            root.getElementsByTagName("memballoon").getLength() > 0, List.of(), false));
        } catch (KvmtoolException e) {
            throw e;
        } catch (Exception e) {
            throw new KvmtoolException(ErrorCode.XML_ERROR, "XML error: " + e.getMessage(), e);
        }
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
        return b.append("</devices>\n</domain>\n").toString();
    }

    /** A domain XML for tests. */
    public static String xml(String name, String... extra) {
        return "<domain type='kvmtool'><name>" + name + "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                + "<os><type>hvm</type><kernel>/boot/guest.bin</kernel></os>" + String.join("", extra)
                + "<devices><memballoon model='virtio'/></devices></domain>";
    }
}
