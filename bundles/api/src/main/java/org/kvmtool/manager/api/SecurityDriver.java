package org.kvmtool.manager.api;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a domain's lkvm may touch on the host (libvirt's security driver, in its DAC shape): in system mode the
 * kernel, initrd and disk images are lent to lkvm's unprivileged user for the run and given back after it;
 * writable images are locked for the run. Everything it changes is recorded durably under a state directory
 * before it is changed, so a manager killed at any moment gives it back at its next activation.
 *
 * <p>Callers hold the domain's job: calls for one domain never overlap; calls for different domains may.
 */
public interface SecurityDriver {
    /**
     * What {@link #prepare} did and what the run must hold.
     *
     * @param domain the domain
     * @param lent   the files whose owner changed for this run (real paths), possibly none
     * @param locks  the image locks lkvm must hold (hand them to {@link SpawnRequest})
     */
    record Lease(String domain, List<String> lent, List<ImageLock> locks) {
        public Lease {
            Objects.requireNonNull(domain, "domain");
            lent = List.copyOf(lent);
            locks = List.copyOf(locks);
        }
    }

    /**
     * Before lkvm is spawned: makes the files of {@code definition} usable by uid/gid/groups (lends only when
     * lending is enabled and {@code uid >= 0}), checks that 9p source directories are usable as they are, and
     * returns the locks for the spawn. A failure names the file and the uid and leaves nothing lent.
     *
     * @param stateDir where the per-domain records of lent files live (the manager's run dir or below)
     * @param uid      lkvm's uid, or -1 when lkvm runs as the manager's own user (nothing is lent)
     */
    Lease prepare(Path stateDir, DomainDefinition definition, int uid, int gid, List<Integer> groups);

    /**
     * After lkvm has ended (any way: destroy, poweroff, crash, a failed start): gives back what the domain's
     * record names. Idempotent; nothing recorded is nothing to do. Fails naming the files it could not give
     * back, which stay recorded for the next activation.
     */
    void restore(Path stateDir, String domain);

    /**
     * At activation, once every live run is known: gives back what every record of a domain not in
     * {@code live} names (a manager killed before or after the run's status file existed). Never throws; what
     * cannot be given back stays recorded and is logged.
     *
     * @return the domains whose files were given back
     */
    List<String> recover(Path stateDir, Set<String> live);
}
