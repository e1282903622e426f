package org.kvmtool.manager.xml;

import jakarta.xml.bind.annotation.XmlAccessType;
import jakarta.xml.bind.annotation.XmlAccessorType;
import jakarta.xml.bind.annotation.XmlAnyAttribute;
import jakarta.xml.bind.annotation.XmlAttribute;
import jakarta.xml.bind.annotation.XmlElement;
import jakarta.xml.bind.annotation.XmlRootElement;
import jakarta.xml.bind.annotation.XmlTransient;
import jakarta.xml.bind.annotation.XmlType;
import jakarta.xml.bind.annotation.XmlValue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.xml.namespace.QName;

/**
 * The JAXB binding of the part of libvirt's domain XML that kvmtool can honour. Every leaf is a String:
 * numbers and enumerations are parsed by {@link DomainReader}, which can then say exactly what is wrong
 * and where. Attributes that are not bound land in {@link Node#other} and are reported as unknown.
 * The field order (and {@code propOrder}) is the canonical output order, libvirt's own.
 */
final class DomainXml {
    private DomainXml() {
    }

    @XmlRootElement(name = "domain")
    @XmlType(propOrder = {"name", "uuid", "title", "description", "memory", "currentMemory", "memtune", "memoryBacking", "vcpu",
            "cputune", "os", "clock", "onPoweroff", "onReboot", "onCrash", "devices"})
    static final class Domain extends Node {
        @XmlAttribute String type;
        @XmlElement Text name;
        @XmlElement Text uuid;
        @XmlElement Text title;
        @XmlElement Text description;
        @XmlElement Sized memory;
        @XmlElement Sized currentMemory;
        @XmlElement Memtune memtune;
        @XmlElement MemoryBacking memoryBacking;
        @XmlElement Vcpu vcpu;
        @XmlElement Cputune cputune;
        @XmlElement Os os;
        @XmlElement Clock clock;
        @XmlElement(name = "on_poweroff") Text onPoweroff;
        @XmlElement(name = "on_reboot") Text onReboot;
        @XmlElement(name = "on_crash") Text onCrash;
        @XmlElement Devices devices;
    }

    /** Every bound element: unknown attributes are collected, then refused. */
    @XmlTransient
    @XmlAccessorType(XmlAccessType.FIELD)
    abstract static class Node {
        @XmlAnyAttribute Map<QName, String> other;
    }

    /** An element whose text content is its value. */
    @XmlTransient
    @XmlAccessorType(XmlAccessType.FIELD)
    abstract static class ValueNode extends Node {
        @XmlValue String value;
    }

    static final class Text extends ValueNode {
        Text() {
        }

        Text(String value) {
            this.value = value;
        }
    }

    /** memory, currentMemory, hard_limit: a number with a unit. */
    static final class Sized extends ValueNode {
        @XmlAttribute String unit;
    }

    static final class Vcpu extends ValueNode {
        @XmlAttribute String placement;
    }

    /** An empty marker element such as {@code <readonly/>}. */
    static final class Flag extends Node {
    }

    static final class Memtune extends Node {
        @XmlElement(name = "hard_limit") Sized hardLimit;
    }

    /** Only {@code <hugepages/>}: kvmtool maps guest RAM from a hugetlbfs or not (its other children are refused). */
    static final class MemoryBacking extends Node {
        @XmlElement Flag hugepages;
    }

    static final class Cputune extends Node {
        @XmlElement Text shares;
    }

    @XmlType(propOrder = {"type", "kernel", "initrd", "cmdline", "boot"})
    static final class Os extends Node {
        @XmlElement OsType type;
        @XmlElement Text kernel;
        @XmlElement Text initrd;
        @XmlElement Text cmdline;
        @XmlElement List<Boot> boot = new ArrayList<>();
    }

    static final class OsType extends ValueNode {
        @XmlAttribute String arch;
        @XmlAttribute String machine;
    }

    static final class Boot extends Node {
        @XmlAttribute String dev;
    }

    static final class Clock extends Node {
        @XmlAttribute String offset;
    }

    @XmlType(propOrder = {"emulator", "disk", "controller", "filesystem", "iface", "serial", "console",
            "memballoon", "rng", "vsock"})
    static final class Devices extends Node {
        @XmlElement Text emulator;
        @XmlElement List<Disk> disk = new ArrayList<>();
        @XmlElement List<Controller> controller = new ArrayList<>();
        @XmlElement List<Filesystem> filesystem = new ArrayList<>();
        @XmlElement(name = "interface") List<Interface> iface = new ArrayList<>();
        @XmlElement List<Chr> serial = new ArrayList<>();
        @XmlElement List<Chr> console = new ArrayList<>();
        @XmlElement Memballoon memballoon;
        @XmlElement List<Rng> rng = new ArrayList<>();
        @XmlElement Vsock vsock;
    }

    @XmlType(propOrder = {"driver", "source", "target", "readonly"})
    static final class Disk extends Node {
        @XmlAttribute String type;
        @XmlAttribute String device;
        @XmlElement DiskDriver driver;
        @XmlElement DiskSource source;
        @XmlElement DiskTarget target;
        @XmlElement Flag readonly;
    }

    static final class DiskDriver extends Node {
        @XmlAttribute String name;
        @XmlAttribute String type;
        @XmlAttribute String cache;
    }

    static final class DiskSource extends Node {
        @XmlAttribute String file;
    }

    static final class DiskTarget extends Node {
        @XmlAttribute String dev;
        @XmlAttribute String bus;
    }

    static final class Controller extends Node {
        @XmlAttribute String type;
        @XmlAttribute String index;
    }

    @XmlType(propOrder = {"source", "target"})
    static final class Filesystem extends Node {
        @XmlAttribute String type;
        @XmlAttribute String accessmode;
        @XmlElement DirRef source;
        @XmlElement DirRef target;
    }

    /** filesystem/source and filesystem/target: both just a {@code dir}. */
    static final class DirRef extends Node {
        @XmlAttribute String dir;
    }

    @XmlType(propOrder = {"source", "mac", "target", "model"})
    static final class Interface extends Node {
        @XmlAttribute String type;
        /** Only a bridge's {@code bridge}: other types' sources (network=, dev=, ...) are refused by their type first. */
        @XmlElement IfaceSource source;
        @XmlElement Mac mac;
        @XmlElement IfaceTarget target;
        @XmlElement Model model;
    }

    static final class IfaceSource extends Node {
        @XmlAttribute String bridge;
    }

    static final class Mac extends Node {
        @XmlAttribute String address;
    }

    static final class IfaceTarget extends Node {
        @XmlAttribute String dev;
        @XmlAttribute String managed;
    }

    static final class Model extends Node {
        @XmlAttribute String type;
    }

    /** console and serial. */
    static final class Chr extends Node {
        @XmlAttribute String type;
        @XmlElement ChrTarget target;
    }

    static final class ChrTarget extends Node {
        @XmlAttribute String type;
        @XmlAttribute String port;
    }

    static final class Memballoon extends Node {
        @XmlAttribute String model;
    }

    static final class Rng extends Node {
        @XmlAttribute String model;
        @XmlElement Backend backend;
    }

    static final class Backend extends ValueNode {
        @XmlAttribute String model;
    }

    static final class Vsock extends Node {
        @XmlAttribute String model;
        @XmlElement VsockCid cid;
    }

    static final class VsockCid extends Node {
        @XmlAttribute String auto;
        @XmlAttribute String address;
    }
}
