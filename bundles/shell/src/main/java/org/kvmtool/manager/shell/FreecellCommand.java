package org.kvmtool.manager.shell;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "kvmtool", name = "freecell", description = "Free memory of the host or of its NUMA cells, as virsh freecell prints it")
@Service
public class FreecellCommand extends HostAction {
    @Option(name = "--all", description = "every NUMA cell and the total")
    boolean all;
    @Option(name = "--cellno", description = "one NUMA cell")
    Integer cell;

    @Override
    void run(PrintStream out) {
        if (all) {
            List<Long> free = host.cellsFreeMemory(0, Integer.MAX_VALUE);
            out.print(HostText.cells(IntStream.range(0, free.size()).boxed().toList(), free));
        } else if (cell != null) {
            out.printf(Locale.ROOT, "%d: %d KiB%n", cell, host.cellsFreeMemory(cell, 1).get(0) / 1024);
        } else {
            out.printf(Locale.ROOT, "Total: %d KiB%n", host.freeMemoryBytes() / 1024);
        }
    }
}
