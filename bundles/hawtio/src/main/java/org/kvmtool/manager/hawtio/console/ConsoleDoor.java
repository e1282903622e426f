package org.kvmtool.manager.hawtio.console;

import java.nio.file.Path;
import java.security.AccessController;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import javax.security.auth.Subject;

import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.hawtio.MBeans;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The door of the browser terminal: who may open a domain's console over the WebSocket at
 * /kvmtool/console/NAME ({@link ConsoleServlet}, which this bundle's web context serves), and the sessions it
 * opens. It also registers kvmtool:type=WebConsole, where a user logged in to Hawtio gets a ticket.
 *
 * <p>A handshake passes three checks, in this order: its Origin, against the allowed origins of the Jolokia
 * access policy (403); who it is, from a ticket or HTTP basic credentials of Karaf's JAAS realm (401); whether
 * Karaf's JMX ACL lets that user invoke sendConsole on the domain's MBean (403).
 */
@Component(service = ConsoleDoor.class, configurationPid = ConsoleDoor.PID)
@Designate(ocd = ConsoleDoor.Config.class)
public final class ConsoleDoor implements WebConsoleMBean {
    static final String PID = "org.kvmtool.manager.webconsole";
    static final String OBJECT_NAME = "kvmtool:type=WebConsole";
    static final String PATH = "/kvmtool/console/";

    @ObjectClassDefinition(name = "kvmtool browser terminal",
            description = "The console WebSocket at /kvmtool/console/NAME that Hawtio's kvmtool tab opens")
    public @interface Config {
        @AttributeDefinition(description = "The Jolokia access policy whose allow-origin list says which pages may"
                + " open a console; empty = ${karaf.etc}/jolokia-access.xml")
        String origin_policy() default "";

        @AttributeDefinition(description = "How long a ticket is good for (seconds)")
        int ticket_seconds() default 30;

        @AttributeDefinition(description = "How much of the console's latest output a terminal shows first (bytes)")
        int history_bytes() default 16 * 1024;

        @AttributeDefinition(description = "How far a browser may fall behind the output before it is let go (bytes)")
        long backlog_bytes() default 1L << 20;

        @AttributeDefinition(description = "The JAAS realm of HTTP basic credentials")
        String realm() default "karaf";

        @AttributeDefinition(description = "ObjectName pattern of Karaf's JMX security MBean")
        String security_mbean() default "org.apache.karaf:type=security,area=jmx,*";
    }

    /** What the checks decided: 0 = admitted (as {@code user}), else the HTTP status to refuse with. */
    record Admission(int status, String message, String user) {
        static Admission refuse(int status, String message) {
            return new Admission(status, message, null);
        }
    }

    private final DomainDriver driver;
    private final MBeanServer server;
    private final ObjectName name;
    private final Config config;
    private final OriginPolicy origins;
    private final ConsoleTickets tickets;
    private final JaasLogin logins;
    private final ConsoleAcl acl;

    @Activate
    public ConsoleDoor(@Reference DomainDriver driver, @Reference MBeanServer server, Config config,
                       BundleContext context) throws JMException {
        this(driver, server, config, OriginPolicy.read(policyFile(config.origin_policy(), context.getProperty("karaf.etc"))));
    }

    ConsoleDoor(DomainDriver driver, MBeanServer server, Config config, OriginPolicy origins) throws JMException {
        this.driver = driver;
        this.server = server;
        this.config = config;
        this.origins = origins;
        this.tickets = new ConsoleTickets(TimeUnit.SECONDS.toNanos(config.ticket_seconds()), 1000, System::nanoTime,
                new SecureRandom());
        this.logins = new JaasLogin(config.realm());
        this.acl = new ConsoleAcl(server, config.security_mbean());
        this.name = new ObjectName(OBJECT_NAME);
        MBeans.register(server, new StandardMBean(this, WebConsoleMBean.class), name);
    }

    static Path policyFile(String configured, String karafEtc) {
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured.strip());
        }
        return karafEtc == null ? null : Path.of(karafEtc, "jolokia-access.xml");
    }

    @Deactivate
    public void close() throws JMException {
        MBeans.unregister(server, name);
    }

    // ---- kvmtool:type=WebConsole

    @Override
    @SuppressWarnings("removal") // Subject.current() is Java 18+; Jolokia and Karaf's JMX run requests with doAs
    public String ticket(String domain) {
        if (!DomainNames.valid(domain)) {
            throw new IllegalArgumentException("not a domain name: " + domain);
        }
        Subject subject = Subject.getSubject(AccessController.getContext());
        if (subject == null || subject.getPrincipals().isEmpty()) {
            throw new SecurityException("no logged-in user: ask for a ticket through Jolokia or JMX after a login");
        }
        return tickets.issue(subject, domain);
    }

    @Override
    public int getTicketSeconds() {
        return config.ticket_seconds();
    }

    @Override
    public String getPath() {
        return PATH;
    }

    // ---- the handshake

    /**
     * @param origin        the handshake's Origin header, or null
     * @param ticket        its ticket parameter, or null
     * @param authorization its Authorization header, or null
     */
    Admission admit(String domain, String origin, String ticket, String authorization) {
        if (!origins.test(origin)) {
            return Admission.refuse(403, "origin " + origin + " is not allowed (" + origins + ")");
        }
        Optional<Subject> subject = ticket != null ? tickets.redeem(ticket, domain) : logins.login(authorization);
        if (subject.isEmpty()) {
            return Admission.refuse(401, ticket != null ? "unknown or expired ticket" : "log in first");
        }
        String user = ConsoleAcl.userName(subject.get());
        if (!acl.mayUseConsole(subject.get(), domain)) {
            return Admission.refuse(403, user + " may not use the console of " + domain + " (sendConsole)");
        }
        return new Admission(0, null, user);
    }

    /** The endpoint of one admitted handshake. */
    ConsoleSocket socket(String domain, boolean force, String user) {
        return new ConsoleSocket(driver, domain, force, user, config.history_bytes(), config.backlog_bytes());
    }
}
