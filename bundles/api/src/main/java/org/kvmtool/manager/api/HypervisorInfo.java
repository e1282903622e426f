package org.kvmtool.manager.api;

/**
 * What the hypervisor probe found. When {@code available} is false, {@code reason} says why (binary
 * not found, not executable, `lkvm version` failed...) and {@code version} is null.
 */
public record HypervisorInfo(String binary, boolean available, String version, String reason) {
}
