package org.kvmtool.manager.hawtio;

/**
 * What Hawtio 2 reads from every MBean named hawtio:type=plugin,name=* (GET /hawtio/plugin) to find a
 * plugin: its web context and the scripts to load from there.
 */
public interface HawtioPluginMBean {
    String getName();

    String getContext();

    String getDomain();

    String[] getScripts();
}
