package org.kvmtool.manager.itests.karaf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Measured figures: a line "FIGURE ..." on stdout (the test's output file under target/failsafe-reports) and
 * appended to target/figures.txt of this module, from inside Karaf (system property kvmtool.itest.figures) as
 * from the test JVM.
 */
final class Figures {
    private Figures() {
    }

    static void print(String text) {
        String line = "FIGURE " + text;
        System.out.println(line);
        try {
            Path file = Path.of(System.getProperty(KarafTestSupport.FIGURES, "target/figures.txt"));
            Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException | RuntimeException e) {
            // the stdout line is enough
        }
    }
}
