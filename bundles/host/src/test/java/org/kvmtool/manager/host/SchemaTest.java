package org.kvmtool.manager.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The three documents against libvirt's schemas, for a fixture NUMA host and for this machine. */
class SchemaTest {
    @TempDir
    Path work;

    @BeforeEach
    void schemas() {
        Schemas.assumeAvailable();
    }

    private List<HostServiceImpl> hosts() {
        return List.of(HostFixturesTest.service(HostFixturesTest.numa(work.resolve("numa")), 710),
                new HostServiceImpl(HostPaths.system(), KvmDevice::maxVcpus));
    }

    @Test
    void capabilitiesValidateWithKvmtoolAddedToTheDomainTypes() throws Exception {
        Path schema = Schemas.capabilitiesWithKvmtool(work);
        for (HostServiceImpl h : hosts()) {
            String xml = h.capabilitiesXml(HostFixturesTest.SYSTEM);
            Schemas.Result r = Schemas.validate(schema, xml, work);
            assertTrue(r.valid(), r.output() + "\n" + xml);
        }
    }

    @Test
    void againstTheStockSchemaOnlyTheDomainTypeKvmtoolIsUnknown() throws Exception {
        String xml = hosts().get(0).capabilitiesXml(HostFixturesTest.SYSTEM);
        Schemas.Result stock = Schemas.validate(Schemas.DIR.resolve("capability.rng"), xml, work);
        assertFalse(stock.valid());
        List<String> errors = stock.output().lines().filter(l -> !l.endsWith("fails to validate")).toList();
        assertEquals(1, errors.size(), stock.output());
        assertTrue(errors.get(0).contains("Element domain failed to validate attributes"), stock.output());
        // and with that one element of a libvirt type, the rest of the document is valid as it stands
        Schemas.Result asKvm = Schemas.validate(Schemas.DIR.resolve("capability.rng"),
                xml.replace("<domain type='kvmtool'/>", "<domain type='kvm'/>"), work);
        assertTrue(asKvm.valid(), asKvm.output());
    }

    @Test
    void domainCapabilitiesValidate() throws Exception {
        for (HostServiceImpl h : hosts()) {
            String xml = h.domainCapabilitiesXml(HostFixturesTest.SYSTEM, null, null, null, null);
            Schemas.Result r = Schemas.validate(Schemas.DIR.resolve("domaincaps.rng"), xml, work);
            assertTrue(r.valid(), r.output() + "\n" + xml);
        }
    }

    @Test
    void sysinfoValidatesAsLibvirtsSysinfoElement() throws Exception {
        FixtureHost h = HostFixturesTest.numa(work.resolve("dmi"));
        for (String f : Smbios.FILES) {
            h.file("sys/class/dmi/id/" + f, "value of " + f + "\n");
        }
        Path schema = Schemas.sysinfo(work);
        for (HostServiceImpl s : List.of(HostFixturesTest.service(h, 8), new HostServiceImpl(HostPaths.system(),
                KvmDevice::maxVcpus))) {
            String xml = s.sysinfoXml();
            Schemas.Result r = Schemas.validate(schema, xml, work);
            // a host without DMI gives an empty <sysinfo type='smbios'>, which the domain schema also takes
            assertTrue(r.valid(), r.output() + "\n" + xml);
        }
        assertEquals(Smbios.FILES.size(), HostFixturesTest.service(h, 8).sysinfoXml().lines()
                .filter(l -> l.contains("<entry")).count());
    }
}
