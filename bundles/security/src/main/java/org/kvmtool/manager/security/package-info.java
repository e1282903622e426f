/**
 * The security driver (libvirt's DAC driver, for kvmtool): files lent to lkvm's unprivileged user for a run
 * ({@link org.kvmtool.manager.security.DacSecurityDriver}) and the image locks lkvm holds.
 */
package org.kvmtool.manager.security;
