package org.kvmtool.manager.core;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.kvmtool.manager.api.CgroupService;
import org.kvmtool.manager.api.ConsoleService;
import org.kvmtool.manager.api.DomainXmlCodec;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.ExitWatcher;
import org.kvmtool.manager.api.Hypervisor;
import org.kvmtool.manager.api.KvmtoolException;
import org.kvmtool.manager.api.LkvmControl;
import org.kvmtool.manager.api.NetworkService;
import org.kvmtool.manager.api.ProcessSpawner;
import org.kvmtool.manager.api.SecurityDriver;

/**
 * The real services, built as SCR builds them: each DS component class through its public activation
 * constructor with its typed configuration. Looked up by name, so this test tree compiles whichever of
 * the service bundles has landed; {@link #missing()} says what is not there yet (tests skip, saying so).
 */
final class RealServices {
    static final String STANDIN = System.getProperty("kvmtool.standin.lkvm", "");
    static final String GUEST = System.getProperty("kvmtool.test.guest", "");

    private RealServices() {
    }

    /** Why the real services cannot run here, or null when they can. */
    static String missing() {
        for (String c : new String[] {"org.kvmtool.manager.xml.XmlDomainCodec", "org.kvmtool.manager.launch.PosixProcessSpawner",
                "org.kvmtool.manager.cgroups.CgroupServiceImpl", "org.kvmtool.manager.console.ConsoleServiceImpl",
                "org.kvmtool.manager.security.DacSecurityDriver",
                "org.kvmtool.manager.network.TapNetworkService"}) {
            try {
                Class.forName(c);
            } catch (ClassNotFoundException e) {
                return c + " has not landed";
            }
        }
        if (STANDIN.isEmpty() || !Files.isExecutable(Path.of(STANDIN)) || !Files.isRegularFile(Path.of(GUEST))) {
            return "the lkvm stand-in and the test guest are not built (mvn -pl itests/lkvm-standin,itests/guest verify): "
                    + STANDIN + ", " + GUEST;
        }
        return null;
    }

    static Services create(Path helperDir) throws Exception {
        DomainXmlCodec codec = (DomainXmlCodec) Class.forName("org.kvmtool.manager.xml.XmlDomainCodec").getConstructor().newInstance();
        Hypervisor hypervisor = (Hypervisor) component("org.kvmtool.manager.launch.LkvmHypervisor", Map.of());
        ProcessSpawner spawner = (ProcessSpawner) Class.forName("org.kvmtool.manager.launch.PosixProcessSpawner")
                .getConstructors()[0].newInstance(null, config("org.kvmtool.manager.launch.PosixProcessSpawner",
                        Map.of("helper_dir", helperDir.toString())));
        ExitWatcher exits = (ExitWatcher) Class.forName("org.kvmtool.manager.launch.PidfdExitWatcher").getConstructor().newInstance();
        LkvmControl control = (LkvmControl) component("org.kvmtool.manager.launch.SocketLkvmControl", Map.of("sysrq_step_millis", 20L, "ipc_timeout_millis", 5000L) /* a loaded CI machine */);
        CgroupService cgroups = (CgroupService) component("org.kvmtool.manager.cgroups.CgroupServiceImpl", Map.of());
        ConsoleService console = (ConsoleService) component("org.kvmtool.manager.console.ConsoleServiceImpl", Map.of());
        SecurityDriver security = (SecurityDriver) component("org.kvmtool.manager.security.DacSecurityDriver", Map.of());
        NetworkService network = (NetworkService) Class.forName("org.kvmtool.manager.network.TapNetworkService").getConstructor().newInstance();
        return new Services(codec, hypervisor, spawner, exits, control, cgroups, console, security, network);
    }

    /** Whether LkvmHypervisor builds command lines yet (the argv builder lands separately). */
    static String argvMissing(Services s) {
        try {
            s.hypervisor().commandLine(s.codec().parse("<domain type='kvmtool'><name>probe</name><memory unit='MiB'>64</memory>"
                    + "<os><type>hvm</type><kernel>" + GUEST + "</kernel></os></domain>"), STANDIN, "/tmp/h");
            return null;
        } catch (KvmtoolException e) {
            return e.code() == ErrorCode.NO_SUPPORT ? "LkvmHypervisor.commandLine: " + e.getMessage() : null;
        }
    }

    /** Ends what the services run themselves (threads), as SCR's deactivate would. */
    static void close(Services s) {
        for (Object o : new Object[] {s.console(), s.exits()}) {
            for (String m : new String[] {"deactivate", "close"}) {
                try {
                    o.getClass().getMethod(m).invoke(o);
                    break;
                } catch (NoSuchMethodException e) {
                    // try the next name
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    static Object component(String cls, Map<String, Object> values) throws Exception {
        Object cfg = config(cls, values);
        return Class.forName(cls).getConstructor(cfg.getClass().getInterfaces()[0]).newInstance(cfg);
    }

    /** An instance of the component's Config annotation: its defaults, some overridden (what SCR hands over). */
    static Object config(String cls, Map<String, Object> values) throws ClassNotFoundException {
        Class<?> type = Class.forName(cls + "$Config");
        return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, m, args) -> {
            if (values.containsKey(m.getName())) {
                return values.get(m.getName());
            }
            if (m.getDefaultValue() != null) {
                return m.getDefaultValue();
            }
            return switch (m.getName()) {
                case "annotationType" -> type;
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                case "toString" -> type.getName() + values;
                default -> throw new IllegalStateException("no value for " + m.getName());
            };
        });
    }
}
