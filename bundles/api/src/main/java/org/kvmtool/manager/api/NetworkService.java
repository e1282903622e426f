package org.kvmtool.manager.api;

import java.util.List;
import java.util.Set;

import org.kvmtool.manager.api.DomainDefinition.NetInterface;
import org.kvmtool.manager.api.DomainDefinition.Vsock;

/**
 * The host side of a guest's network: the taps the manager makes (libvirt's {@code type='bridge'} and managed
 * {@code type='ethernet'}), their counters, and vsock CIDs. Every tap made here is marked with its owner (an
 * opaque word of the caller's: the driver passes the run's HOME), so that a tap is only ever removed by the run
 * that made it, and one left by a manager that died mid-start is recognised later ({@link #removeOrphans}).
 * A tap is persistent: it outlives the manager, and the guest keeps its network across a restart of it.
 */
public interface NetworkService {
    /**
     * Makes the taps of {@code interfaces} that the manager manages: each is created (named by its
     * {@code tapDevice}, else {@code kvmtapN} with the lowest free N), persistent, owned by {@code uid}/{@code gid}
     * (lkvm's user), given the guest MAC with a first byte of 0xFE (so a bridge never takes it as its own address)
     * and the bridge's MTU, put on its bridge and brought up. An existing tap ({@code managed} false) must exist
     * and is left as it is; user-mode interfaces need nothing.
     *
     * <p>All or nothing: on any failure the taps this call made are removed again and the error names the
     * interface (index from 1) and the cause: CONFIG_UNSUPPORTED when a tap must be made and {@code uid} is
     * negative (session mode: lkvm runs as the manager, which may not make taps), OPERATION_INVALID for a
     * missing bridge or existing tap, or a named tap that exists already, SYSTEM_ERROR for a failed call.
     *
     * @param domain for messages
     * @param owner  the mark this run's taps carry (not blank)
     * @param uid    lkvm's user; negative: lkvm runs as the manager (session mode)
     * @return the interfaces as lkvm will use them, in order: every tap named
     */
    List<NetInterface> prepare(String domain, String owner, List<NetInterface> interfaces, int uid, int gid);

    /**
     * Removes the taps of {@code interfaces} that carry {@code owner}'s mark; any other (an existing tap, one
     * another run has made since) is left alone. Call it once lkvm has ended: a tap lkvm still holds is not
     * removed. Idempotent; never throws: what cannot be removed is logged.
     */
    void release(String owner, List<NetInterface> interfaces);

    /**
     * Removes every tap whose owner starts with {@code ownerPrefix} and is not in {@code liveOwners}: what a
     * manager that died between making a tap and recording its run left. Never throws.
     *
     * @return the taps removed
     */
    List<String> removeOrphans(String ownerPrefix, Set<String> liveOwners);

    /**
     * The counters of an interface's tap, from the guest's side. NO_SUPPORT for a user-mode interface (it has no
     * host device), OPERATION_INVALID when the tap does not exist.
     */
    InterfaceStats stats(NetInterface nic);

    /**
     * The vsock CID of a run: the one given, or (auto) the lowest from {@link Vsock#MIN_CID} that no guest of the
     * host uses: no lkvm or QEMU process names it and no other run of this service holds it. The CID is held for
     * {@code owner} until {@link #releaseVsock}. OPERATION_INVALID when a given CID is in use,
     * CONFIG_UNSUPPORTED when the host has no /dev/vhost-vsock.
     *
     * @return the CID lkvm gets
     */
    long acquireVsock(String domain, String owner, Vsock vsock);

    /** Forgets the CID held for {@code owner} (nothing when none). */
    void releaseVsock(String owner);
}
