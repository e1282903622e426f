package org.kvmtool.manager.xml;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** The start position of every bound element, recorded while JAXB creates it. */
final class Positions {
    private final Map<Object, Pos> byNode = new IdentityHashMap<>();
    private final List<Object> order = new ArrayList<>();

    void record(Object node, Pos pos) {
        if (byNode.put(node, pos) == null) {
            order.add(node);
        }
    }

    Pos of(Object node) {
        Pos p = byNode.get(node);
        return p == null ? Pos.of("/domain") : p;
    }

    /** Nodes in document order. */
    List<Object> inOrder() {
        return order;
    }
}
