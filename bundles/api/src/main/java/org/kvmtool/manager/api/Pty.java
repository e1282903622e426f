package org.kvmtool.manager.api;

/**
 * A fresh pseudo-terminal: the master descriptor (open in this JVM until handed to lkvm as its stdio,
 * then closed with {@link ConsoleService#closeMaster}) and the path of its slave (/dev/pts/N).
 */
public record Pty(int masterFd, String slavePath) {
}
