package org.kvmtool.manager.shell;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.Terminal;
import org.kvmtool.manager.api.ConsoleAttachment;
import org.kvmtool.manager.api.ConsoleListener;

@Command(scope = "kvmtool", name = "console", description = "Connect to the guest console (Ctrl-] to leave)")
@Service
public class ConsoleCommand extends OptionsAfterDomainAction {
    /** Ctrl-], virsh's escape character. */
    static final int ESCAPE = 0x1d;

    @Reference
    Session session;

    @Argument(index = 0, name = "domain", description = "the domain name", required = true)
    @Completion(DomainCompleters.Console.class)
    String domain;

    @Option(name = "--force", description = "take the console over from another session")
    boolean force;

    @Override
    void run(PrintStream out) throws Exception {
        PrintStream console = session.getConsole();
        CountDownLatch ended = new CountDownLatch(1);
        ConsoleListener listener = new ConsoleListener() {
            @Override
            public void output(byte[] data) {
                console.write(data, 0, data.length);
                console.flush();
            }

            @Override
            public void closed() {
                ended.countDown();
            }
        };
        Terminal terminal = session.getTerminal();
        boolean echo = terminal != null && terminal.isEchoEnabled();
        try (ConsoleAttachment attachment = driver.attachConsole(domain, force, listener)) {
            console.println("Connected to domain '" + domain + "'");
            console.println("Escape character is ^] (Ctrl + ])");
            console.flush();
            if (terminal != null) {
                terminal.setEchoEnabled(false);
            }
            pump(session.getKeyboard(), attachment, ended);
        } finally {
            if (terminal != null) {
                terminal.setEchoEnabled(echo);
            }
            console.println();
        }
    }

    /**
     * Copies keystrokes to the guest until Ctrl-], end of input, or the console's end. The keyboard
     * is polled with available() because a blocked read could not notice that the guest went away,
     * and would swallow the operator's next keystroke after it did.
     */
    private static void pump(InputStream keys, ConsoleAttachment attachment, CountDownLatch ended) throws Exception {
        byte[] buf = new byte[1024];
        while (ended.getCount() > 0) {
            int ready = keys.available();
            if (ready <= 0) {
                if (ended.await(20, TimeUnit.MILLISECONDS)) {
                    return;
                }
                continue;
            }
            int n = keys.read(buf, 0, Math.min(buf.length, ready));
            if (n < 0) {
                return;
            }
            for (int i = 0; i < n; i++) {
                if (buf[i] == ESCAPE) {
                    if (i > 0) {
                        attachment.write(Arrays.copyOf(buf, i));
                    }
                    return;
                }
            }
            attachment.write(Arrays.copyOf(buf, n));
        }
    }
}
