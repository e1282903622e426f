package org.kvmtool.manager.host;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One NUMA cell (the whole host, as cell 0, where the kernel has no /sys/devices/system/node).
 *
 * @param pages     pages of each size in KiB: the base size counts the cell's memory, huge sizes nr_hugepages
 * @param distances the distance to each cell by id (empty without NUMA)
 */
record Cell(int id, List<Integer> cpus, long totalKiB, long freeKiB, SortedMap<Integer, Long> pages,
            SortedMap<Integer, Integer> distances) {
    Cell {
        cpus = List.copyOf(cpus);
        pages = new TreeMap<>(pages);
        distances = new TreeMap<>(distances);
    }

    static Cell of(int id, List<Integer> cpus, long totalKiB, long freeKiB, Map<Integer, Long> pages,
                   Map<Integer, Integer> distances) {
        return new Cell(id, cpus, totalKiB, freeKiB, new TreeMap<>(pages), new TreeMap<>(distances));
    }
}
