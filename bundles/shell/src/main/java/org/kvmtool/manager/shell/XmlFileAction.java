package org.kvmtool.manager.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiFunction;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.kvmtool.manager.api.DomainDriver;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** A command that hands a definition file to the driver (define, create) and says what became of it. */
abstract class XmlFileAction extends DomainAction {
    /** The codec's own limit; checked here so a huge file is never read into memory. */
    private static final long MAX_BYTES = 1 << 20;

    @Argument(index = 0, name = "file", description = "the domain XML file", required = true)
    @Completion(FileCompleter.class)
    String file;

    private final String done;
    private final BiFunction<DomainDriver, String, String> submit;

    /**
     * @param done   what the driver did ("defined"), for the confirmation line
     * @param submit the driver's call that takes the XML and returns the domain's name
     */
    XmlFileAction(String done, BiFunction<DomainDriver, String, String> submit) {
        this.done = done;
        this.submit = submit;
    }

    @Override
    final void run(PrintStream out) {
        String name = submit.apply(driver, read(Path.of(file)));
        out.println("Domain '" + name + "' " + done + " from " + file);
    }

    /** Refuses what the codec would refuse anyway before loading the file whole. */
    static String read(Path file) {
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new KvmtoolException(ErrorCode.XML_ERROR, "file " + file + " is larger than 1 MiB");
            }
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new KvmtoolException(ErrorCode.SYSTEM_ERROR, "failed to read file '" + file + "': " + e.getMessage(), e);
        }
    }
}
