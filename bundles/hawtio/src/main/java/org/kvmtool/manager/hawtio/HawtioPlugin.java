package org.kvmtool.manager.hawtio;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * Announces the kvmtool tab to Hawtio. Its files (src/main/webapp/plugin) are served by this bundle's own web
 * context (Web-ContextPath: /kvmtool), so Hawtio's war stays untouched and the tab comes and goes with the bundle.
 */
@Component(service = {})
public class HawtioPlugin implements HawtioPluginMBean {
    static final String OBJECT_NAME = "hawtio:type=plugin,name=kvmtool";
    /** xterm.js first: it defines the global Terminal the terminal directive uses (not an AngularJS module). */
    static final String[] SCRIPTS = {"plugin/vendor/xterm.js", "plugin/kvmtool.figures.js",
        "plugin/kvmtool.service.js", "plugin/kvmtool.terminal.js", "plugin/dashboard.component.js",
        "plugin/kvmtool.module.js"};

    private final MBeanServer server;
    private final ObjectName name;

    @Activate
    public HawtioPlugin(@Reference MBeanServer server) throws JMException {
        this.server = server;
        this.name = new ObjectName(OBJECT_NAME);
        MBeans.register(server, this, name);
    }

    @Deactivate
    public void close() throws JMException {
        MBeans.unregister(server, name);
    }

    @Override
    public String getName() {
        return "kvmtool";
    }

    @Override
    public String getContext() {
        return "/kvmtool";
    }

    @Override
    public String getDomain() {
        return "kvmtool";
    }

    /**
     * Loaded by Hawtio in this order, each from the web context. The template (plugin/dashboard.html) and the
     * styles (plugin/kvmtool.css, plugin/vendor/xterm.css) are no scripts: the component and the module fetch
     * them from the same place.
     */
    @Override
    public String[] getScripts() {
        return SCRIPTS.clone();
    }
}
