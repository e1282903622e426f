package org.kvmtool.manager.api;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The domain operations whose admission depends on the domain's state (or on its being persistent), and the
 * one table of those preconditions: the driver checks every such operation against it, and the edges read it
 * through {@link DomainInfo#allowedOperations()} (the Domain MBean's {@code AllowedOperations}), so none of
 * them restates a state. Each refusal carries the message the driver has always given for it (virsh's words).
 * Refusals that depend on the arguments or the definition (a memory size out of range, no balloon) are the
 * driver's own and are not in this table.
 */
public enum Operation {
    START("start", refused(DomainState.RUNNING, Words.ALREADY_RUNNING, DomainState.PAUSED, Words.ALREADY_RUNNING,
            DomainState.SHUTDOWN, Words.ALREADY_RUNNING), null),
    /** Allowed while shutting down already: asking again sends the keys again. */
    SHUTDOWN("shutdown", refused(DomainState.SHUTOFF, Words.NOT_RUNNING, DomainState.PAUSED, "domain is paused"), null),
    DESTROY("destroy", refused(DomainState.SHUTOFF, Words.NOT_RUNNING), null),
    REBOOT("reboot", refused(DomainState.SHUTOFF, Words.NOT_RUNNING, DomainState.PAUSED, Words.NOT_RUNNING,
            DomainState.SHUTDOWN, Words.NOT_RUNNING), null),
    SUSPEND("suspend", refused(DomainState.SHUTOFF, Words.NOT_RUNNING, DomainState.PAUSED, "domain is already paused",
            DomainState.SHUTDOWN, Words.NOT_RUNNING), null),
    RESUME("resume", refused(DomainState.SHUTOFF, Words.NOT_RUNNING, DomainState.RUNNING, Words.NOT_PAUSED,
            DomainState.SHUTDOWN, Words.NOT_PAUSED), null),
    /** In any state (a running domain goes on as a transient one), but only a persistent domain. */
    UNDEFINE("undefine", refused(), "cannot undefine transient domain '%s'"),
    /** In any state: the balloon while active, the definition while inactive. */
    SET_MEMORY("setMemory", refused(), null),
    /** The Domain MBean's writable attribute {@code Autostart}; only a persistent domain. */
    SET_AUTOSTART("setAutostart", refused(), "cannot set autostart for transient domain '%s'"),
    /** Console input and interactive console sessions (sendConsole, attachConsole). */
    CONSOLE("sendConsole", refused(DomainState.SHUTOFF, Words.NOT_RUNNING), null),
    /** lkvm's balloon statistics (STAT): a paused lkvm does not answer them. */
    MEMORY_STATS("memoryStats", refused(DomainState.SHUTOFF, Words.NOT_RUNNING, DomainState.PAUSED, Words.NOT_RUNNING,
            DomainState.SHUTDOWN, Words.NOT_RUNNING), null);

    /** The messages several operations share. */
    private static final class Words {
        static final String NOT_RUNNING = "domain is not running";
        static final String ALREADY_RUNNING = "domain is already running";
        static final String NOT_PAUSED = "domain is not paused";
    }

    private final String mbeanName;
    private final Map<DomainState, String> refusals;
    private final String transientRefusal;

    Operation(String mbeanName, Map<DomainState, String> refusals, String transientRefusal) {
        this.mbeanName = mbeanName;
        this.refusals = refusals;
        this.transientRefusal = transientRefusal;
    }

    /** The Domain MBean's name for it (lower camel case), as the attribute AllowedOperations lists it. */
    public String mbeanName() {
        return mbeanName;
    }

    /**
     * Why a domain named {@code domain} in {@code state} may not do this operation (the state is asked first),
     * or empty when it may.
     */
    public Optional<String> refusal(DomainState state, boolean persistent, String domain) {
        String why = refusals.get(state);
        if (why == null && !persistent && transientRefusal != null) {
            why = String.format(transientRefusal, domain);
        }
        return Optional.ofNullable(why);
    }

    public boolean isAllowed(DomainState state, boolean persistent) {
        return refusal(state, persistent, "").isEmpty();
    }

    /** Throws OPERATION_INVALID with the refusal's message when the operation is not allowed. */
    public void check(DomainState state, boolean persistent, String domain) {
        Optional<String> why = refusal(state, persistent, domain);
        if (why.isPresent()) {
            throw new KvmtoolException(ErrorCode.OPERATION_INVALID, why.get());
        }
    }

    /** The operations a domain in {@code state} may do, in this enum's order. */
    public static Set<Operation> allowed(DomainState state, boolean persistent) {
        Set<Operation> out = EnumSet.noneOf(Operation.class);
        for (Operation op : values()) {
            if (op.isAllowed(state, persistent)) {
                out.add(op);
            }
        }
        return Collections.unmodifiableSet(out);
    }

    /** {@code state, message, state, message, ...}. */
    private static Map<DomainState, String> refused(Object... stateAndMessage) {
        Map<DomainState, String> m = new EnumMap<>(DomainState.class);
        for (int i = 0; i < stateAndMessage.length; i += 2) {
            m.put((DomainState) stateAndMessage[i], (String) stateAndMessage[i + 1]);
        }
        return Collections.unmodifiableMap(m);
    }
}
