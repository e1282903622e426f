package org.kvmtool.manager.shell;

import java.io.PrintStream;
import java.nio.file.Path;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

@Command(scope = "kvmtool", name = "define", description = "Define (but don't start) a domain from a libvirt XML file")
@Service
public class DefineCommand extends DomainAction {
    @Argument(index = 0, name = "file", description = "the domain XML file", required = true)
    @Completion(FileCompleter.class)
    String file;

    @Override
    void run(PrintStream out) throws Exception {
        String name = driver.define(XmlFiles.read(Path.of(file)));
        out.println("Domain '" + name + "' defined from " + file);
    }
}
