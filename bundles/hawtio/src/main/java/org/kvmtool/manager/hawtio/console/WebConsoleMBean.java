package org.kvmtool.manager.hawtio.console;

/**
 * kvmtool:type=WebConsole: where a browser that is logged in to Hawtio gets its one-time ticket for the console
 * WebSocket at /kvmtool/console/NAME (see {@link ConsoleTickets}).
 */
public interface WebConsoleMBean {
    /**
     * A ticket for the calling user (the JAAS subject the request runs as) and the domain, good once within
     * {@link #getTicketSeconds()} seconds: present it as {@code ?ticket=} in the WebSocket handshake.
     */
    String ticket(String domain);

    int getTicketSeconds();

    /** Where the WebSocket of a domain's console is served, relative to the server: /kvmtool/console/NAME. */
    String getPath();
}
