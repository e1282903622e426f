/**
 * The only exported package of kvmtool-manager: the domain model (immutable records), the
 * service interfaces through which the bundles talk, the error codes and the events.
 *
 * <p>Data flows one way: XML -> {@link DomainDefinition} -> lkvm argv -> process -> supervision
 * -> state -> MBean. Only the driver (core) mutates domain state.
 */
package org.kvmtool.manager.api;
